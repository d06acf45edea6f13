"""Typed permission for routes keyed by `proposal_id`: a proposal the caller's business is party
to (sent or received), managers and owners only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from crosspromo.auth import guarded
from crosspromo.partnerships import service
from crosspromo.partnerships.models import Proposal
from crosspromo.roles import Role
from crosspromo.web.deps import ApiActor, Db, SignedIn, parse_uuid


@guarded("proposal", Role.manager)
def party_proposal(proposal_id: str, actor: ApiActor, db: Db) -> Proposal:
    """404 for outsiders, 403 for a cashier of a party, checked before the body is read."""
    proposal, _ = service.get(db, actor, parse_uuid(proposal_id))
    return proposal


PartyProposal = Annotated[Proposal, Depends(party_proposal)]


@guarded("proposal", Role.manager)
def party_proposal_page(proposal_id: str, web: SignedIn, db: Db) -> Proposal:
    """The same check for signed-in pages."""
    proposal, _ = service.get(db, web.actor, parse_uuid(proposal_id))
    return proposal


PartyProposalPage = Annotated[Proposal, Depends(party_proposal_page)]
