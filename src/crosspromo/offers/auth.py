"""Typed permissions for routes keyed by `offer_id` and `redemption_id`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from crosspromo.auth import guarded
from crosspromo.offers import service
from crosspromo.offers.models import Offer, Redemption
from crosspromo.roles import Role
from crosspromo.web.deps import ApiActor, Db, parse_uuid


@guarded("offer", Role.manager)
def member_offer(offer_id: str, actor: ApiActor, db: Db) -> Offer:
    """404 unless a business the caller manages is a member of the offer's campaign."""
    return service.get_offer(db, actor, parse_uuid(offer_id))


@guarded("redemption", Role.cashier)
def business_redemption(redemption_id: str, actor: ApiActor, db: Db) -> Redemption:
    """404 unless the redemption was made at a business the caller works for (cashiers too)."""
    return service.get_redemption(db, actor, parse_uuid(redemption_id))


MemberOffer = Annotated[Offer, Depends(member_offer)]
BusinessRedemption = Annotated[Redemption, Depends(business_redemption)]
