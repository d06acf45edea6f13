"""A campaign's funnel: codes issued, links opened, codes redeemed, customers who came back.

* issued:    unique codes made for the campaign's offers (each printed or sent to one person),
             plus the control group's treatment arm where it got no personal code (a shared
             code or a coupon in the bag reached it),
* clicked:   distinct visitors of the offers' links (a link and an address hash, once),
* redeemed:  redemptions at the tills, reversed ones excluded,
* came back: redemptions whose customer bought again at the same business at least a day
             later, from imported sales (matched by the keyed e-mail or phone hash).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crosspromo.customers.models import Customer
from crosspromo.measurement import attribution
from crosspromo.measurement.audience_models import Arm, AudienceMember
from crosspromo.offers.models import Click, Code, CodeKind, Offer, Redemption
from crosspromo.sales.models import Transaction

RETURN_AFTER = timedelta(days=1)  # a purchase the same day is the redemption's own receipt


@dataclass(frozen=True)
class Funnel:
    issued: int
    clicked: int
    redeemed: int
    came_back: int

    def as_dict(self) -> dict[str, int]:
        return {
            "issued": self.issued,
            "clicked": self.clicked,
            "redeemed": self.redeemed,
            "came_back": self.came_back,
        }


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def funnel(session: Session, *, campaign_id: uuid.UUID) -> Funnel:
    """The campaign's funnel from issued codes to customers who came back."""
    offers = select(Offer.id).where(Offer.campaign_id == campaign_id).scalar_subquery()
    issued = session.scalar(
        select(func.count())
        .select_from(Code)
        .where(Code.offer_id.in_(offers), Code.kind == CodeKind.unique)
    )
    personal = select(Code.label).where(
        Code.offer_id.in_(offers), Code.label.startswith(attribution.SENT_LABEL)
    )
    coded = {
        label[len(attribution.SENT_LABEL) :].replace("-", "") for label in session.scalars(personal)
    }
    treated = session.scalars(
        select(AudienceMember.customer_id).where(
            AudienceMember.campaign_id == campaign_id, AudienceMember.arm == Arm.treatment
        )
    )
    issued = int(issued or 0) + sum(1 for customer in treated if customer.hex not in coded)
    visitors = (
        select(Click.code_id, Click.address_hash)
        .where(Click.offer_id.in_(offers))
        .distinct()
        .subquery()
    )
    clicked = session.scalar(select(func.count()).select_from(visitors))
    reversal = aliased(Redemption)
    kept = (
        Redemption.offer_id.in_(offers),
        Redemption.reverses_id.is_(None),
        ~exists().where(reversal.reverses_id == Redemption.id),
    )
    redeemed = session.scalar(select(func.count()).select_from(Redemption).where(*kept))
    buyer = aliased(Customer)
    later = (
        select(Redemption.id, Redemption.at, func.max(Transaction.at))
        .join(Transaction, Transaction.business_id == Redemption.business_id)
        .join(buyer, buyer.id == Transaction.customer_id)
        .where(
            *kept,
            Redemption.customer_hash.is_not(None),
            or_(
                buyer.email_hash == Redemption.customer_hash,
                buyer.phone_hash == Redemption.customer_hash,
            ),
            Transaction.at > Redemption.at,
        )
        .group_by(Redemption.id, Redemption.at)
    )
    came_back = sum(
        1
        for _, redeemed_at, last in session.execute(later)
        if last is not None and _utc(last) - _utc(redeemed_at) >= RETURN_AFTER
    )
    return Funnel(issued, int(clicked or 0), int(redeemed or 0), came_back)
