"""Typed permissions for routes keyed by `lead_id`: the receiver or a business offered it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from crosspromo.auth import guarded
from crosspromo.leads import service
from crosspromo.leads.models import Lead
from crosspromo.roles import Role
from crosspromo.web.deps import ApiActor, Db, SignedIn, parse_uuid


@guarded("lead", Role.cashier)
def cashier_lead(lead_id: str, actor: ApiActor, db: Db) -> Lead:
    """404 unless a business the caller works for received the lead or was offered it."""
    return service.get_lead(db, actor, parse_uuid(lead_id), Role.cashier)[0]


@guarded("lead", Role.manager)
def manager_lead(lead_id: str, actor: ApiActor, db: Db) -> Lead:
    """The same, with at least the manager role there (routing, hand-off, disputes)."""
    return service.get_lead(db, actor, parse_uuid(lead_id), Role.manager)[0]


@guarded("lead", Role.cashier)
def page_lead(lead_id: str, web: SignedIn, db: Db) -> Lead:
    return service.get_lead(db, web.actor, parse_uuid(lead_id), Role.cashier)[0]


CashierLead = Annotated[Lead, Depends(cashier_lead)]
ManagerLead = Annotated[Lead, Depends(manager_lead)]
CashierLeadPage = Annotated[Lead, Depends(page_lead)]
