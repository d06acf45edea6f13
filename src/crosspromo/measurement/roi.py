"""Did the partnership pay? Incremental gross profit against every cost, side by side.

Incremental revenue is the measured uplift in revenue per customer times the customers who got
the offer; its gross profit uses the honouring partner's margin (`Business.margin_bp`). Costs:
the discounts actually given (redemptions net of reversals), the budget lines (printed
materials, bonus products at cost, staff hours × hourly cost, advertising, other; the planned
"discounts" line is replaced by the discounts actually given) and the commissions the agreement
accrued. A commission moves money between the partners, so it cancels in the total and shows in
each side's share. All money is integer minor units; the ratio is a Decimal.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign
from crosspromo.errors import NotFound
from crosspromo.measurement import audience as audiences
from crosspromo.measurement.audience_models import Arm
from crosspromo.measurement.outcomes import SENT_LABEL
from crosspromo.measurement.uplift import Measurement, measure
from crosspromo.offers.models import Accrual, Code, CodeKind, Offer, Redemption
from crosspromo.partnerships import service as partnerships

COST_ITEMS = ("discounts", "materials", "bonus_products", "staff_hours", "advertising", "other")
NUMBER = re.compile(r"\d[\d\s,.]*")
REACHED = 0.5  # fewer codes issued or seen than half the audience: it was not reached
CLAIMED = 0.5  # an audience under half of what the partner's profile claims: overestimated


def _minor(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Side:
    """One partner's share: its gross profit, costs and commissions, and what is left."""

    business: str
    name: str = ""  # the business's own name, for people; `business` is its slug
    gross_profit_minor: int = 0
    costs_minor: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COST_ITEMS, 0))
    commissions_paid_minor: int = 0
    commissions_received_minor: int = 0

    @property
    def net_minor(self) -> int:
        return (
            self.gross_profit_minor
            + self.commissions_received_minor
            - self.commissions_paid_minor
            - sum(self.costs_minor.values())
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "business": self.business,
            "gross_profit_minor": self.gross_profit_minor,
            "costs_minor": self.costs_minor,
            "commissions_paid_minor": self.commissions_paid_minor,
            "commissions_received_minor": self.commissions_received_minor,
            "net_minor": self.net_minor,
        }


@dataclass
class Roi:
    """The campaign's return: incremental profit, costs, net, per side, and expected vs fact."""

    campaign_id: uuid.UUID
    currency: str
    customers: int  # who got the offer (treatment), the base of the incremental revenue
    incremental_revenue_minor: int
    incremental_revenue_ci95_minor: tuple[int, int] | None
    margin_bp: int
    incremental_gross_profit_minor: int
    costs_minor: dict[str, int]
    sides: list[Side]
    expected_vs_fact: dict[str, Any]
    diagnoses: list[str]
    evidence: str

    @property
    def total_costs_minor(self) -> int:
        return sum(self.costs_minor.values())

    @property
    def net_minor(self) -> int:
        return self.incremental_gross_profit_minor - self.total_costs_minor

    @property
    def roi(self) -> Decimal | None:
        """Net over costs (0.25 = every 1 spent came back with 0.25 profit)."""
        if self.total_costs_minor <= 0:
            return None
        return (Decimal(self.net_minor) / Decimal(self.total_costs_minor)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    def as_json(self) -> dict[str, Any]:
        ci = self.incremental_revenue_ci95_minor
        return {
            "campaign_id": str(self.campaign_id),
            "currency": self.currency,
            "customers": self.customers,
            "incremental_revenue_minor": self.incremental_revenue_minor,
            "incremental_revenue_ci95_minor": None if ci is None else list(ci),
            "margin_bp": self.margin_bp,
            "incremental_gross_profit_minor": self.incremental_gross_profit_minor,
            "costs_minor": self.costs_minor,
            "total_costs_minor": self.total_costs_minor,
            "net_minor": self.net_minor,
            "roi": None if self.roi is None else str(self.roi),
            "sides": [s.as_json() for s in self.sides],
            "expected_vs_fact": self.expected_vs_fact,
            "diagnoses": self.diagnoses,
            "evidence": self.evidence,
        }


def _expected_number(text: str) -> int | None:
    """The first whole number in an expected result such as "+40 receipts a month"."""
    found = NUMBER.search(text or "")
    if found is None:
        return None
    digits = re.sub(r"[\s,]", "", found.group()).split(".")[0]
    return int(digits) if digits.isdigit() else None


def roi(session: Session, *, campaign_id: uuid.UUID, measured: Measurement | None = None) -> Roi:
    """Incremental gross profit minus costs, per side, with the expected-vs-fact diagnosis."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    measured = measured or measure(session, campaign_id=campaign_id)
    members = {
        b.id: b for b in businesses.by_ids(session, set(campaigns.member_ids(session, campaign.id)))
    }
    by_slug = {b.slug: b for b in members.values()}
    honouring = by_slug[measured.honouring]
    issuer = by_slug[measured.issuer]
    sides = {bid: Side(business=b.slug, name=b.name) for bid, b in members.items()}

    revenue = measured.revenue_per_customer
    customers = revenue.n_treatment
    difference = Decimal(str(revenue.difference or 0))
    incremental = _minor(difference * customers)
    ci = None
    if revenue.ci95 is not None:
        ci = (
            _minor(Decimal(str(revenue.ci95[0])) * customers),
            _minor(Decimal(str(revenue.ci95[1])) * customers),
        )
    margin = honouring.margin_bp
    profit = _minor(Decimal(incremental) * margin / 10_000)
    sides[honouring.id].gross_profit_minor = profit

    offer_ids = select(Offer.id).where(Offer.campaign_id == campaign.id)
    for business_id, discount in session.execute(
        select(Redemption.business_id, func.coalesce(func.sum(Redemption.discount_minor), 0))
        .where(Redemption.offer_id.in_(offer_ids))
        .group_by(Redemption.business_id)
    ):
        if business_id in sides:
            sides[business_id].costs_minor["discounts"] += int(discount)
    for line in campaigns.budget(session, campaign.id):
        if line.item != "discounts" and line.business_id in sides:
            item = line.item if line.item in COST_ITEMS else "other"
            sides[line.business_id].costs_minor[item] += int(line.amount_minor)
    redemption_ids = select(Redemption.id).where(Redemption.offer_id.in_(offer_ids))
    code_ids = select(Code.id).where(Code.offer_id.in_(offer_ids))
    for payer, payee, amount in session.execute(
        select(
            Accrual.payer_business_id,
            Accrual.payee_business_id,
            func.coalesce(func.sum(Accrual.amount_minor), 0),
        )
        .where(or_(Accrual.redemption_id.in_(redemption_ids), Accrual.code_id.in_(code_ids)))
        .group_by(Accrual.payer_business_id, Accrual.payee_business_id)
    ):
        if payer in sides:
            sides[payer].commissions_paid_minor += int(amount)
        if payee in sides:
            sides[payee].commissions_received_minor += int(amount)
    costs = dict.fromkeys(COST_ITEMS, 0)
    for side in sides.values():
        for item, amount in side.costs_minor.items():
            costs[item] += amount

    expected, diagnoses = _expected_vs_fact(session, campaign, issuer, measured)
    return Roi(
        campaign_id=campaign.id,
        currency=campaign.currency,
        customers=customers,
        incremental_revenue_minor=incremental,
        incremental_revenue_ci95_minor=ci,
        margin_bp=margin,
        incremental_gross_profit_minor=profit,
        costs_minor=costs,
        sides=sorted(sides.values(), key=lambda s: (s.business != issuer.slug, s.business)),
        expected_vs_fact=expected,
        diagnoses=diagnoses,
        evidence="weaker" if measured.weaker else "randomised holdout",
    )


def _expected_vs_fact(
    session: Session, campaign: Campaign, issuer: Any, measured: Measurement
) -> tuple[dict[str, Any], list[str]]:
    """The terms' and profile's promises against what happened, and the domain's diagnosis."""
    offer_ids = select(Offer.id).where(Offer.campaign_id == campaign.id)
    sent = int(
        session.scalar(
            select(func.count()).where(
                Code.offer_id.in_(offer_ids), Code.label.startswith(SENT_LABEL)
            )
        )
        or 0
    )
    clicks = int(
        session.scalar(
            select(func.coalesce(func.sum(Code.clicks), 0)).where(Code.offer_id.in_(offer_ids))
        )
        or 0
    )
    used_codes = int(
        session.scalar(
            select(func.coalesce(func.sum(Code.uses), 0)).where(Code.offer_id.in_(offer_ids))
        )
        or 0
    )
    reversed_ids = select(Redemption.reverses_id).where(Redemption.reverses_id.is_not(None))
    redeemed = int(
        session.scalar(
            select(func.count()).where(
                Redemption.offer_id.in_(offer_ids),
                Redemption.reverses_id.is_(None),
                Redemption.id.not_in(reversed_ids),
            )
        )
        or 0
    )
    sizes = audiences.sizes(session, campaign.id)
    audience = sizes[Arm.treatment] + sizes[Arm.holdout] or measured.conversion.n_treatment
    reachable = sizes[Arm.treatment] or audience
    claimed = issuer.newsletter_subscribers or issuer.customers_per_month
    months = Decimal(1)
    if campaign.starts_on and campaign.ends_on:
        months = Decimal((campaign.ends_on - campaign.starts_on).days + 1) / Decimal("30.44")
    promised: int | None = None
    agreed = partnerships.agreed_option(session, campaign.proposal_id)
    if agreed is not None:
        option = agreed[1]
        numbers = [
            _expected_number(str(option.get(side, {}).get("expected_result", "")))
            for side in ("proposer", "partner")
        ]
        per_month = [n for n in numbers if n]
        if per_month:
            promised = _minor(Decimal(max(per_month)) * months)
    issued = sent + used_codes
    conversions = int(measured.conversion.n_treatment * (measured.conversion.treatment or 0))
    expected = {
        "audience_claimed": claimed,
        "audience_actual": audience,
        "codes_issued": issued,
        "codes_seen": sent + clicks,
        "redemptions": redeemed,
        "conversions_expected": promised,
        "conversions_actual": conversions,
    }
    diagnoses = []
    if claimed and audience < CLAIMED * claimed:
        diagnoses.append("partner_overestimated_audience")
    # Who got a code is known only for e-mailed unique codes and referral links; a shared code
    # or a word on paper coupons may have reached everyone without the platform seeing it.
    tracked = bool(
        session.scalar(
            select(func.count()).where(
                Code.offer_id.in_(offer_ids), Code.kind.in_((CodeKind.unique, CodeKind.link))
            )
        )
    )
    expected["issue_tracked"] = tracked
    if tracked and reachable and max(issued, sent + clicks) < REACHED * reachable:
        diagnoses.append("audience_not_reached")
    if issued > 0 and redeemed == 0:
        diagnoses.append("partner_did_not_keep_deal")
    return expected, diagnoses
