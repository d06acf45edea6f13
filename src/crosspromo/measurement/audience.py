"""Control groups: who of the issuer's customers gets the offer, and who is held out.

A customer's arm comes from a keyed hash (HMAC-SHA256 with the install secret, the campaign id
and the customer id), so the same campaign always splits the same way, nobody can steer it, and
the split is stored when the codes are issued and never drawn again. Customers who become
eligible later are added by the same rule. The holdout gets no code and no message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign
from crosspromo.customers.models import Customer
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.measurement.audience_models import Arm, Audience, AudienceMember
from crosspromo.measurement.outcomes import Window, campaign_offers, collect
from crosspromo.roles import Actor, Role
from crosspromo.sales.models import Transaction

DEFAULT_HOLDOUT_BP = 1000  # 10 % held out unless the campaign says otherwise
SCALE = 2**64
PAGE = 1_000


def arm_of(secret_key: str, campaign_id: uuid.UUID, customer_id: uuid.UUID, holdout_bp: int) -> Arm:
    """The customer's arm: a keyed hash mapped to [0, 1) against the holdout share."""
    digest = hmac.new(
        secret_key.encode(), f"holdout:{campaign_id}:{customer_id}".encode(), hashlib.sha256
    ).digest()
    draw = int.from_bytes(digest[:8], "big")
    return Arm.holdout if draw * 10_000 < holdout_bp * SCALE else Arm.treatment


def setting(session: Session, campaign_id: uuid.UUID, business_id: uuid.UUID) -> Audience | None:
    return session.scalar(
        select(Audience).where(
            Audience.campaign_id == campaign_id, Audience.business_id == business_id
        )
    )


def audiences(session: Session, campaign_id: uuid.UUID) -> list[Audience]:
    return list(
        session.scalars(
            select(Audience)
            .where(Audience.campaign_id == campaign_id)
            .order_by(Audience.created_at, Audience.id)
        )
    )


def _issuer(session: Session, actor: Actor, campaign: Campaign, business_id: uuid.UUID) -> None:
    """The actor manages `business_id`, and it is a member of the campaign."""
    businesses.get(session, actor, business_id, need=Role.manager)
    if business_id not in campaigns.member_ids(session, campaign.id):
        raise Invalid("This business is not a member of the campaign.", field="business_id")


def configure(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    *,
    business_id: uuid.UUID,
    holdout_bp: int = DEFAULT_HOLDOUT_BP,
    recency_days: int | None = None,
    min_spend_minor: int | None = None,
) -> Audience:
    """Set the holdout share and filters of an issuer's audience; refused once it is drawn."""
    campaign, _ = campaigns.get(session, actor, campaign_id, need=Role.manager)
    _issuer(session, actor, campaign, business_id)
    if not 0 <= holdout_bp <= 5_000:
        raise Invalid("The holdout is 0 to 50 % of the audience.", field="holdout_bp")
    found = setting(session, campaign.id, business_id)
    if found is not None and found.drawn_at is not None:
        raise Conflict("The audience is already split; a split is never drawn again.")
    if found is None:
        found = Audience(campaign_id=campaign.id, business_id=business_id)
        session.add(found)
    found.holdout_bp = holdout_bp
    found.recency_days = recency_days
    found.min_spend_minor = min_spend_minor
    session.flush()
    return found


def eligible(audience: Audience) -> Select[uuid.UUID]:
    """The issuer's consenting customers that pass the audience's filters."""
    query = select(Customer.id).where(
        Customer.business_id == audience.business_id, Customer.marketing_consent.is_(True)
    )
    mine = (Transaction.customer_id == Customer.id) & (
        Transaction.business_id == audience.business_id
    )
    since = None
    if audience.recency_days:
        since = utcnow() - timedelta(days=audience.recency_days)
        query = query.where(exists().where(mine, Transaction.at >= since))
    if audience.min_spend_minor:
        spent = select(func.coalesce(func.sum(Transaction.amount_minor), 0)).where(mine)
        if since is not None:
            spent = spent.where(Transaction.at >= since)
        query = query.where(spent.scalar_subquery() >= audience.min_spend_minor)
    return query


def draw(
    session: Session, campaign: Campaign, business_id: uuid.UUID, *, secret_key: str
) -> Audience:
    """Split the eligible customers not yet split; those already split keep their arm."""
    audience = setting(session, campaign.id, business_id)
    if audience is None:
        audience = Audience(campaign_id=campaign.id, business_id=business_id)
        session.add(audience)
        session.flush()
    known = select(AudienceMember.customer_id).where(AudienceMember.campaign_id == campaign.id)
    fresh: list[uuid.UUID] = list(
        session.scalars(eligible(audience).where(Customer.id.not_in(known)))
    )
    now = utcnow()
    rows = [
        {
            "campaign_id": campaign.id,
            "customer_id": cid,
            "business_id": business_id,
            "arm": arm_of(secret_key, campaign.id, cid, audience.holdout_bp),
            "drawn_at": now,
        }
        for cid in fresh
    ]
    _insert(session, rows)
    audience.drawn_at = audience.drawn_at or now
    session.flush()
    return audience


def assign(
    session: Session,
    campaign: Campaign,
    business_id: uuid.UUID,
    arms: dict[uuid.UUID, Arm],
    *,
    holdout_bp: int,
) -> Audience:
    """Record a split made elsewhere (a past promotion's randomised holdout, imported)."""
    audience = setting(session, campaign.id, business_id)
    if audience is not None and audience.drawn_at is not None:
        raise Conflict("The audience is already split; a split is never drawn again.")
    if audience is None:
        audience = Audience(campaign_id=campaign.id, business_id=business_id)
        session.add(audience)
    audience.holdout_bp = holdout_bp
    now = utcnow()
    audience.drawn_at = now
    session.flush()
    _insert(
        session,
        [
            {
                "campaign_id": campaign.id,
                "customer_id": cid,
                "business_id": business_id,
                "arm": arm,
                "drawn_at": now,
            }
            for cid, arm in arms.items()
        ],
    )
    return audience


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert arms; a row another run wrote first wins (the arm is the same anyway)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), PAGE):
        session.execute(
            dialect.insert(AudienceMember)
            .values(rows[start : start + PAGE])
            .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id"])
        )


def holdout_ids(session: Session, campaign_id: uuid.UUID) -> set[uuid.UUID]:
    """Customers held out of the campaign: they get no code and no message."""
    return set(
        session.scalars(
            select(AudienceMember.customer_id).where(
                AudienceMember.campaign_id == campaign_id, AudienceMember.arm == Arm.holdout
            )
        )
    )


def arms(session: Session, campaign_id: uuid.UUID) -> Select[uuid.UUID, bool]:
    """(customer id, treated) of every drawn customer of the campaign."""
    return (
        select(AudienceMember.customer_id, AudienceMember.arm == Arm.treatment)
        .where(AudienceMember.campaign_id == campaign_id)
        .order_by(AudienceMember.customer_id)
    )


def sizes(session: Session, campaign_id: uuid.UUID) -> dict[Arm, int]:
    rows = session.execute(
        select(AudienceMember.arm, func.count())
        .where(AudienceMember.campaign_id == campaign_id)
        .group_by(AudienceMember.arm)
    )
    found = {Arm(arm): int(n) for arm, n in rows}
    return {arm: found.get(arm, 0) for arm in Arm}


def _cursor(external_id: str) -> str:
    return base64.urlsafe_b64encode(external_id.encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("This cursor was not given by this list.", field="cursor") from None


def members(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    *,
    business_id: uuid.UUID,
    limit: int = 500,
    cursor: str | None = None,
) -> tuple[list[tuple[str, Arm]], str | None]:
    """A page of (the business's own customer id, arm), by customer id; the next cursor."""
    campaign, _ = campaigns.get(session, actor, campaign_id, need=Role.manager)
    _issuer(session, actor, campaign, business_id)
    query = (
        select(Customer.external_id, AudienceMember.arm)
        .join(Customer, Customer.id == AudienceMember.customer_id)
        .where(AudienceMember.campaign_id == campaign.id, AudienceMember.business_id == business_id)
        .order_by(Customer.external_id)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(Customer.external_id > _uncursor(cursor))
    rows = [(str(e), Arm(a)) for e, a in session.execute(query)]
    following = _cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return rows[:limit], following


@dataclass(frozen=True)
class Power:
    """What an audience and split can detect: the smallest conversion change at 80 % power."""

    treatment: int
    holdout: int
    baseline_rate: float  # conversion at the partner before the campaign
    baseline_measured: bool  # False: no history, an assumed rate
    alpha: float
    power: float
    effect_size: float | None  # Cohen's h
    detectable_rate: float | None
    detectable_pp: float | None  # percentage points

    def as_json(self) -> dict[str, Any]:
        return {
            "treatment": self.treatment,
            "holdout": self.holdout,
            "baseline_rate": round(self.baseline_rate, 6),
            "baseline_measured": self.baseline_measured,
            "alpha": self.alpha,
            "power": self.power,
            "effect_size": None if self.effect_size is None else round(self.effect_size, 6),
            "detectable_rate": None
            if self.detectable_rate is None
            else round(self.detectable_rate, 6),
            "detectable_pp": None if self.detectable_pp is None else round(self.detectable_pp, 4),
        }


ASSUMED_RATE = 0.1


def detectable(
    treatment: int,
    holdout: int,
    baseline_rate: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    measured: bool = True,
) -> Power:
    """The minimum detectable conversion uplift (two-sided z-test of two proportions)."""
    h: float | None = None
    rate: float | None = None
    if treatment >= 2 and holdout >= 2:
        from statsmodels.stats.power import NormalIndPower  # loaded when used: light start-up

        h = float(
            NormalIndPower().solve_power(
                effect_size=None,
                nobs1=treatment,
                alpha=alpha,
                power=power,
                ratio=holdout / treatment,
                alternative="two-sided",
            )
        )
        # Cohen's h = 2·asin(√p1) − 2·asin(√p0), solved for p1 (capped at certainty).
        angle = min(math.asin(math.sqrt(baseline_rate)) + h / 2, math.pi / 2)
        rate = math.sin(angle) ** 2
    return Power(
        treatment=treatment,
        holdout=holdout,
        baseline_rate=baseline_rate,
        baseline_measured=measured,
        alpha=alpha,
        power=power,
        effect_size=h,
        detectable_rate=rate,
        detectable_pp=None if rate is None else (rate - baseline_rate) * 100,
    )


def power_for(
    session: Session, campaign: Campaign, business_id: uuid.UUID, honouring_id: uuid.UUID | None
) -> Power:
    """Before launch: this audience and split, against its own conversion before the campaign."""
    audience = setting(session, campaign.id, business_id) or Audience(
        campaign_id=campaign.id, business_id=business_id, holdout_bp=DEFAULT_HOLDOUT_BP
    )
    if audience.drawn_at is not None:
        n = sizes(session, campaign.id)
        treatment, holdout = n[Arm.treatment], n[Arm.holdout]
    else:
        total = int(
            session.scalar(select(func.count()).select_from(eligible(audience).subquery())) or 0
        )
        holdout = round(total * audience.holdout_bp / 10_000)
        treatment = total - holdout
    rate, measured = ASSUMED_RATE, False
    if honouring_id is not None and campaign.starts_on and campaign.ends_on:
        partner = businesses.by_ids(session, {honouring_id})
        zone = partner[0].timezone if partner else "UTC"
        days = (campaign.ends_on - campaign.starts_on).days + 1
        first = campaign.starts_on - timedelta(days=days)
        window = Window.of_days(first, campaign.starts_on - timedelta(days=1), zone, pre_days=0)
        who = (
            arms(session, campaign.id)
            if audience.drawn_at is not None
            else eligible(audience).add_columns(Customer.marketing_consent)
        )
        outcomes = collect(session, audience=who, honouring_id=honouring_id, window=window)
        if len(outcomes.customer_ids) and outcomes.receipts.any():
            rate, measured = float(outcomes.converted.mean()), True
    return detectable(treatment, holdout, rate, measured=measured)


def issuer_and_partner(
    session: Session, campaign_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The campaign's first offer's issuing and honouring members."""
    offers = campaign_offers(session, campaign_id)
    if not offers:
        return None
    return offers[0].issuer_business_id, offers[0].honouring_business_id


def ensure_found(session: Session, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign
