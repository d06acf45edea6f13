"""Did the campaign change what the audience bought at the partner? `measure()` answers.

With a holdout: treatment against holdout over the campaign window (conversion, revenue and
receipts per customer), each with its fixed-horizon 95 % interval, CUPED, the sample-ratio
check and the always-valid sequential interval. Without one: the audience after against before,
and a difference-in-differences against the partner's other customers, labelled as weaker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import literal
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign
from crosspromo.db import utcnow
from crosspromo.errors import Invalid, NotFound
from crosspromo.measurement import audience as audiences
from crosspromo.measurement import stats
from crosspromo.measurement.audience_models import Arm
from crosspromo.measurement.outcomes import (
    Outcomes,
    Window,
    campaign_offers,
    collect,
    partner_customers_outside,
)


@dataclass
class Measurement:
    """What the campaign did to its audience's buying at the honouring partner."""

    campaign_id: uuid.UUID
    issuer: str
    honouring: str
    currency: str
    start: date
    end: date  # the last day measured (today while the campaign runs)
    design: str  # "holdout" or "before_after"
    conversion: stats.Estimate
    revenue_per_customer: stats.Estimate
    receipts_per_customer: stats.Estimate
    srm: dict[str, Any] | None = None
    difference_in_differences: dict[str, Any] | None = None
    sources: list[str] = field(default_factory=list)
    running: bool = False

    @property
    def weaker(self) -> bool:
        return self.design != "holdout"

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign_id": str(self.campaign_id),
            "issuer": self.issuer,
            "honouring": self.honouring,
            "currency": self.currency,
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "running": self.running,
            "design": self.design,
            "evidence": "weaker" if self.weaker else "randomised holdout",
            "conversion": self.conversion.as_json(),
            "revenue_per_customer": self.revenue_per_customer.as_json() | {"unit": "minor"},
            "receipts_per_customer": self.receipts_per_customer.as_json(),
            "srm": self.srm,
            "difference_in_differences": self.difference_in_differences,
            "sources": self.sources,
        }


def _sides(session: Session, campaign: Campaign) -> tuple[Business, Business]:
    """The issuing member (whose customers are the audience) and the honouring one."""
    pair = audiences.issuer_and_partner(session, campaign.id)
    if pair is None:
        drawn = audiences.audiences(session, campaign.id)
        others = [m for m in campaigns.member_ids(session, campaign.id)]
        if drawn and len(others) == 2:
            issuer_id = drawn[0].business_id
            pair = (issuer_id, next(m for m in others if m != issuer_id))
        else:
            raise Invalid("The campaign has no offer yet: nothing to measure.")
    found = {b.id: b for b in businesses.by_ids(session, set(pair))}
    return found[pair[0]], found[pair[1]]


def _window(campaign: Campaign, zone: str, now: datetime) -> tuple[Window, date, bool]:
    if campaign.starts_on is None or campaign.ends_on is None:
        raise Invalid("The campaign needs its dates before it can be measured.")
    today = now.astimezone(ZoneInfo(zone)).date()
    last = (
        min(campaign.ends_on, today - timedelta(days=1))
        if today <= campaign.ends_on
        else (campaign.ends_on)
    )
    last = max(last, campaign.starts_on)
    window = Window.of_days(campaign.starts_on, last, zone)
    return window, last, today <= campaign.ends_on


def _holdout_estimates(
    out: Outcomes, holdout_share: float
) -> tuple[stats.Estimate, stats.Estimate, stats.Estimate, dict[str, Any] | None]:
    t = out.treated
    conv = out.converted
    conversion = stats.proportions(
        int(conv[t].sum()), int(t.sum()), int(conv[~t].sum()), int((~t).sum())
    )
    revenue_y = out.revenue.astype(np.float64)
    receipts_y = out.receipts.astype(np.float64)
    revenue = stats.means(revenue_y[t], revenue_y[~t])
    receipts = stats.means(receipts_y[t], receipts_y[~t], bootstrap=False)
    pre = out.pre_revenue.astype(np.float64)
    for estimate, y, binary in (
        (conversion, conv.astype(np.float64), True),
        (revenue, revenue_y, False),
        (receipts, receipts_y, False),
    ):
        if binary:
            var_t = (conversion.treatment or 0) * (1 - (conversion.treatment or 0))
            var_h = (conversion.holdout or 0) * (1 - (conversion.holdout or 0))
        else:
            var_t = float(y[t].var(ddof=1)) if t.sum() > 1 else 0.0
            var_h = float(y[~t].var(ddof=1)) if (~t).sum() > 1 else 0.0
        estimate.extra["sequential"] = stats.sequential(estimate, var_t, var_h)
        estimate.extra["cuped"] = stats.cuped(y, pre, t)
    check = stats.srm(int(t.sum()), int((~t).sum()), holdout_share)
    return conversion, revenue, receipts, check


def _before_after(
    session: Session,
    out: Outcomes,
    campaign: Campaign,
    issuer: Business,
    honouring: Business,
    window: Window,
) -> tuple[stats.Estimate, stats.Estimate, stats.Estimate, dict[str, Any] | None]:
    conversion = stats.paired_change(
        out.converted.astype(np.float64), (out.pre_receipts > 0).astype(np.float64)
    )
    revenue = stats.paired_change(
        out.revenue.astype(np.float64), out.pre_revenue.astype(np.float64)
    )
    receipts = stats.paired_change(
        out.receipts.astype(np.float64), out.pre_receipts.astype(np.float64)
    )
    # Difference-in-differences: the audience's change against the partner's other customers'
    # change over the same two periods (both groups: customers who bought in either period).
    ids = audiences.eligible(_setting(session, campaign, issuer))
    c_in, c_pre, r_in, r_pre = partner_customers_outside(
        session, audience_ids=ids, issuer_id=issuer.id, honouring_id=honouring.id, window=window
    )
    active = (out.receipts + out.pre_receipts) > 0
    did: dict[str, Any] | None = None
    if active.sum() >= 2 and len(c_in) >= 2:
        mine = (out.revenue - out.pre_revenue)[active].astype(np.float64)
        theirs = (r_in - r_pre).astype(np.float64)
        estimate = stats.means(mine, theirs, bootstrap=False)
        did = {
            "metric": "revenue_per_customer",
            "difference": estimate.as_json()["difference"],
            "ci95": estimate.as_json()["ci95"],
            "p_value": estimate.as_json()["p_value"],
            "audience": int(active.sum()),
            "comparison": int(len(c_in)),
            "method": "difference-in-differences against the partner's other customers, "
            "previous period (weaker evidence: no holdout)",
        }
    return conversion, revenue, receipts, did


def _setting(session: Session, campaign: Campaign, issuer: Business) -> Any:
    found = audiences.setting(session, campaign.id, issuer.id)
    return found or audiences.Audience(campaign_id=campaign.id, business_id=issuer.id, holdout_bp=0)


def measure(
    session: Session, *, campaign_id: uuid.UUID, now: datetime | None = None
) -> Measurement:
    """The campaign's uplift on its audience at the honouring partner (see the module doc)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    issuer, honouring = _sides(session, campaign)
    window, last, running = _window(campaign, honouring.timezone, now or utcnow())
    offer_ids = [o.id for o in campaign_offers(session, campaign.id)]
    sizes = audiences.sizes(session, campaign.id)
    setting = audiences.setting(session, campaign.id, issuer.id)
    if sizes[Arm.holdout] > 0 and sizes[Arm.treatment] > 0:
        out = collect(
            session,
            audience=audiences.arms(session, campaign.id),
            honouring_id=honouring.id,
            window=window,
            offer_ids=offer_ids,
        )
        share = (setting.holdout_bp if setting else audiences.DEFAULT_HOLDOUT_BP) / 10_000
        conversion, revenue, receipts, check = _holdout_estimates(out, share)
        design, did = "holdout", None
    else:
        who = audiences.eligible(_setting(session, campaign, issuer))
        out = collect(
            session,
            audience=who.add_columns(literal(True)),
            honouring_id=honouring.id,
            window=window,
            offer_ids=offer_ids,
        )
        conversion, revenue, receipts, did = _before_after(
            session, out, campaign, issuer, honouring, window
        )
        design, check = "before_after", None
    return Measurement(
        campaign_id=campaign.id,
        issuer=issuer.slug,
        honouring=honouring.slug,
        currency=campaign.currency,
        start=campaign.starts_on or last,
        end=last,
        design=design,
        conversion=conversion,
        revenue_per_customer=revenue,
        receipts_per_customer=receipts,
        srm=check,
        difference_in_differences=did,
        sources=sorted(out.sources),
        running=running,
    )
