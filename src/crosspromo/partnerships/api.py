"""JSON API under /api/v1/partnerships: propose, counter, accept, decline, talk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from crosspromo import paging
from crosspromo.auth import ManagerBusiness
from crosspromo.paging import Page
from crosspromo.partnerships import invitations, service
from crosspromo.partnerships.auth import PartyProposal
from crosspromo.partnerships.models import Proposal, ProposalMessage
from crosspromo.partnerships.schemas import (
    Accept,
    Counter,
    Decline,
    InvitationCreate,
    InvitationOut,
    MessageIn,
    ProposalCreate,
    ProposalOut,
)
from crosspromo.web.deps import ApiActor, Db
from crosspromo.web.query import Cursor

router = APIRouter(prefix="/api/v1/partnerships", tags=["partnerships"])


def _out(
    db: Db,
    proposal: Proposal,
    versions: service.Versions | None = None,
    messages: list[ProposalMessage] | None = None,
) -> dict[str, Any]:
    """A proposal as JSON; a list passes its batch-loaded versions and messages."""
    if versions is None:
        versions = service.versions(db, proposal)
    if messages is None:
        messages = service.messages(db, proposal)
    return {
        "id": str(proposal.id),
        "from_business_id": str(proposal.from_business_id),
        "to_business_id": str(proposal.to_business_id),
        "message": proposal.message,
        "status": proposal.status.value,
        "current_version": proposal.current_version,
        "agreed_version": proposal.agreed_version,
        "decline_reason": proposal.decline_reason,
        "versions": [
            {
                "number": v.number,
                "author_business_id": str(v.author_business_id),
                "options": v.options,
                "note": v.note,
                "accepted_by": [str(b) for b in by],
                "created_at": v.created_at.isoformat(),
            }
            for v, by in versions
        ],
        "messages": [
            {"business_id": str(m.business_id), "text": m.text, "at": m.at.isoformat()}
            for m in messages
        ],
    }


@router.get("", response_model=Page[ProposalOut])
def list_proposals(
    actor: ApiActor,
    db: Db,
    business: ManagerBusiness,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Proposals a business sent or received, newest first; pass `next_cursor` back."""
    rows = service.list_for(db, actor, business_id=business.id, limit=limit + 1, cursor=cursor)
    found, following = paging.page(rows, limit, lambda p: (p.created_at, p.id))
    ids = [p.id for p in found]
    versions, messages = service.versions_of(db, ids), service.messages_of(db, ids)
    items = [_out(db, p, versions[p.id], messages[p.id]) for p in found]
    return {"items": items, "next_cursor": following}


@router.post("", status_code=201, response_model=ProposalOut)
def propose(
    actor: ApiActor, db: Db, business: ManagerBusiness, body: ProposalCreate
) -> dict[str, Any]:
    """Propose 1-5 concrete options to another business (managers and owners)."""
    proposal = service.propose(
        db, actor, from_business_id=business.id, data=body, user_id=actor.user_id
    )
    return _out(db, proposal)


@router.get("/{proposal_id}", response_model=ProposalOut)
def get_proposal(proposal: PartyProposal, actor: ApiActor, db: Db) -> dict[str, Any]:
    return _out(db, proposal)


@router.post("/{proposal_id}/versions", status_code=201, response_model=ProposalOut)
def counter(proposal: PartyProposal, actor: ApiActor, db: Db, body: Counter) -> dict[str, Any]:
    """Counter with changed terms: a new version that both owners must accept again."""
    service.counter(db, actor, proposal.id, body, user_id=actor.user_id)
    return get_proposal(proposal, actor, db)


@router.post("/{proposal_id}/accept", response_model=ProposalOut)
def accept(proposal: PartyProposal, actor: ApiActor, db: Db, body: Accept) -> dict[str, Any]:
    """An owner accepts a version's option; both sides on the same one make the agreement."""
    proposal = service.accept(db, actor, proposal.id, body, user_id=actor.user_id)
    return _out(db, proposal)


@router.post("/{proposal_id}/decline", response_model=ProposalOut)
def decline(proposal: PartyProposal, actor: ApiActor, db: Db, body: Decline) -> dict[str, Any]:
    proposal = service.decline(db, actor, proposal.id, body)
    return _out(db, proposal)


@router.post("/{proposal_id}/messages", status_code=201, response_model=ProposalOut)
def post_message(
    proposal: PartyProposal, actor: ApiActor, db: Db, body: MessageIn
) -> dict[str, Any]:
    service.post_message(db, actor, proposal.id, body, user_id=actor.user_id)
    return get_proposal(proposal, actor, db)


def pdf_response(db: Db, proposal: Proposal, locale: str) -> Response:
    """The current version as a one-page PDF to print or send."""
    from crosspromo.businesses.models import Business
    from crosspromo.partnerships.pdf import proposal_pdf

    sender = db.get(Business, proposal.from_business_id)
    partner = db.get(Business, proposal.to_business_id)
    assert sender is not None and partner is not None
    current = service.versions(db, proposal)[-1][0]
    body = proposal_pdf(
        sender=sender,
        partner=partner,
        message=proposal.message,
        options=current.options,
        version=current.number,
        locale=locale,
    )
    name = f"proposal-{sender.slug}-{partner.slug}-v{current.number}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/{proposal_id}/pdf")
def get_pdf(
    proposal: PartyProposal, actor: ApiActor, db: Db, locale: Annotated[str, Query()] = "en"
) -> Response:
    """The current terms as a one-page PDF (both profiles, the options, expected results)."""
    return pdf_response(db, proposal, "ru" if locale == "ru" else "en")


@router.post("/invitations", status_code=201, response_model=InvitationOut)
def invite(
    request: Request,
    actor: ApiActor,
    db: Db,
    business: ManagerBusiness,
    body: InvitationCreate,
) -> dict[str, Any]:
    """Propose to a business not on the platform: its owner gets an e-mail with a link."""
    invitation, link = invitations.invite(
        db,
        actor,
        from_business_id=business.id,
        data=body,
        public_url=request.app.state.settings.public_url,
        user_id=actor.user_id,
    )
    return {"id": str(invitation.id), "email": invitation.email, "link": link}
