"""Who may act: typed dependencies that put each route's permission in its signature.

    @router.get("/api/v1/businesses/{business_id}/kpis")
    def kpis(business: ManagerBusiness, db: Db) -> ...

`ManagerBusiness` (and `CashierBusiness`, `OwnerBusiness`) resolve the `business_id` path
parameter (or query parameter, on routes whose path has none) for the API caller (API key or
browser session): 404 for a business the caller cannot see, 403 for a role too low. The
`...Page` variants do the same for signed-in pages.

Routes keyed by another id use the capability's own typed dependency, declared in its `auth.py`
with `guarded` (`campaigns.auth.MemberCampaign`, `partnerships.auth.PartyProposal`,
`offers.auth.MemberOffer`, `offers.auth.BusinessRedemption`). The tenancy test finds every
guarded route by the mark and sends it another tenant's ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.roles import Actor, Role
from crosspromo.web.deps import ApiActor, Db, SignedIn, parse_uuid

__all__ = [
    "GUARD",
    "guarded",
    "Actor",
    "Role",
    "business_dependency",
    "CashierBusiness",
    "ManagerBusiness",
    "OwnerBusiness",
    "CashierBusinessPage",
    "ManagerBusinessPage",
    "OwnerBusinessPage",
]


GUARD = "__crosspromo_guard__"
Call = TypeVar("Call", bound=Callable[..., Any])


def guarded(what: str, need: Role) -> Callable[[Call], Call]:
    """Mark a dependency as the check that the caller may reach `what` with at least `need`."""

    def mark(dependency: Call) -> Call:
        setattr(dependency, GUARD, (what, need))
        return dependency

    return mark


def business_dependency(need: Role, *, page: bool = False) -> Any:
    """A FastAPI dependency that loads `business_id` for the caller with at least `need`."""
    if page:

        @guarded("business", need)
        def page_business(business_id: str, web: SignedIn, db: Db) -> Business:
            return businesses.get(db, web.actor, parse_uuid(business_id), need)

        return Depends(page_business)

    @guarded("business", need)
    def api_business(business_id: str, actor: ApiActor, db: Db) -> Business:
        return businesses.get(db, actor, parse_uuid(business_id), need)

    return Depends(api_business)


# Typed permissions: the role a route needs is in its signature.
CashierBusiness = Annotated[Business, business_dependency(Role.cashier)]
ManagerBusiness = Annotated[Business, business_dependency(Role.manager)]
OwnerBusiness = Annotated[Business, business_dependency(Role.owner)]
CashierBusinessPage = Annotated[Business, business_dependency(Role.cashier, page=True)]
ManagerBusinessPage = Annotated[Business, business_dependency(Role.manager, page=True)]
OwnerBusinessPage = Annotated[Business, business_dependency(Role.owner, page=True)]


def actor_id(actor: Actor) -> uuid.UUID | None:
    return actor.user_id
