"""Typed permissions for loyalty routes keyed by `coalition_id`, `transaction_id` and `{card}`.

`CashierCoalition`, `ManagerCoalition` and `OwnerCoalition` resolve `coalition_id` for a caller
who works for a business in the coalition: 404 for everyone else, 403 for a role too low. A
route that acts as one member names it (`business_id`) and takes it with `access.member(...)`,
which answers the same way for a business that is not the caller's or not in the coalition.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path

from crosspromo.auth import CashierBusiness, guarded
from crosspromo.loyalty import flows, service
from crosspromo.loyalty.models import Card, Transaction
from crosspromo.roles import Role
from crosspromo.web.deps import ApiActor, Db, SignedIn, parse_uuid


def coalition_dependency(need: Role, *, page: bool = False) -> Any:
    """A FastAPI dependency that loads `coalition_id` for a member's staff with at least `need`."""
    if page:

        @guarded("coalition", need)
        def page_coalition(coalition_id: str, web: SignedIn, db: Db) -> service.Access:
            return service.access(db, web.actor, parse_uuid(coalition_id), need)

        return Depends(page_coalition)

    @guarded("coalition", need)
    def api_coalition(coalition_id: str, actor: ApiActor, db: Db) -> service.Access:
        return service.access(db, actor, parse_uuid(coalition_id), need)

    return Depends(api_coalition)


CashierCoalition = Annotated[service.Access, coalition_dependency(Role.cashier)]
ManagerCoalition = Annotated[service.Access, coalition_dependency(Role.manager)]
OwnerCoalition = Annotated[service.Access, coalition_dependency(Role.owner)]
ManagerCoalitionPage = Annotated[service.Access, coalition_dependency(Role.manager, page=True)]


@guarded("loyalty-transaction", Role.cashier)
def business_transaction(transaction_id: str, actor: ApiActor, db: Db) -> Transaction:
    """404 unless the transaction was made at a business the caller works for (cashiers too)."""
    txn, _ = flows.transaction_at(db, actor, parse_uuid(transaction_id))
    return txn


BusinessTransaction = Annotated[Transaction, Depends(business_transaction)]


@guarded("card", Role.cashier)
def member_card(
    card: Annotated[str, Path(min_length=1, max_length=60)], business: CashierBusiness, db: Db
) -> Card:
    """A card of a coalition the caller's business (`business_id`) is in; 404 for any other."""
    return flows.card_at(db, business, card)


MemberCard = Annotated[Card, Depends(member_card)]
