"""JSON API under /api/v1/partnerships: propose, counter, accept, decline, talk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from crosspromo.partnerships import invitations, service
from crosspromo.partnerships.models import Proposal, ProposalMessage
from crosspromo.partnerships.schemas import (
    Accept,
    Counter,
    Decline,
    InvitationCreate,
    MessageIn,
    ProposalCreate,
)
from crosspromo.web.deps import ApiActor, Db, parse_uuid

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


@router.get("")
def list_proposals(
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Proposals a business sent or received, newest first."""
    found = service.list_for(db, actor, business_id=parse_uuid(business_id), limit=limit)
    ids = [p.id for p in found]
    versions, messages = service.versions_of(db, ids), service.messages_of(db, ids)
    return [_out(db, p, versions[p.id], messages[p.id]) for p in found]


@router.post("", status_code=201)
def propose(
    actor: ApiActor, db: Db, business_id: Annotated[str, Query()], body: ProposalCreate
) -> dict[str, Any]:
    """Propose 1-5 concrete options to another business (managers and owners)."""
    proposal = service.propose(
        db, actor, from_business_id=parse_uuid(business_id), data=body, user_id=actor.user_id
    )
    return _out(db, proposal)


@router.get("/{proposal_id}")
def get_proposal(proposal_id: str, actor: ApiActor, db: Db) -> dict[str, Any]:
    proposal, _ = service.get(db, actor, parse_uuid(proposal_id))
    return _out(db, proposal)


@router.post("/{proposal_id}/versions", status_code=201)
def counter(proposal_id: str, actor: ApiActor, db: Db, body: Counter) -> dict[str, Any]:
    """Counter with changed terms: a new version that both owners must accept again."""
    service.counter(db, actor, parse_uuid(proposal_id), body, user_id=actor.user_id)
    return get_proposal(proposal_id, actor, db)


@router.post("/{proposal_id}/accept")
def accept(proposal_id: str, actor: ApiActor, db: Db, body: Accept) -> dict[str, Any]:
    """An owner accepts a version's option; both sides on the same one make the agreement."""
    proposal = service.accept(db, actor, parse_uuid(proposal_id), body, user_id=actor.user_id)
    return _out(db, proposal)


@router.post("/{proposal_id}/decline")
def decline(proposal_id: str, actor: ApiActor, db: Db, body: Decline) -> dict[str, Any]:
    proposal = service.decline(db, actor, parse_uuid(proposal_id), body)
    return _out(db, proposal)


@router.post("/{proposal_id}/messages", status_code=201)
def post_message(proposal_id: str, actor: ApiActor, db: Db, body: MessageIn) -> dict[str, Any]:
    service.post_message(db, actor, parse_uuid(proposal_id), body, user_id=actor.user_id)
    return get_proposal(proposal_id, actor, db)


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
    proposal_id: str, actor: ApiActor, db: Db, locale: Annotated[str, Query()] = "en"
) -> Response:
    """The current terms as a one-page PDF (both profiles, the options, expected results)."""
    proposal, _ = service.get(db, actor, parse_uuid(proposal_id))
    return pdf_response(db, proposal, "ru" if locale == "ru" else "en")


@router.post("/invitations", status_code=201)
def invite(
    request: Request,
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    body: InvitationCreate,
) -> dict[str, Any]:
    """Propose to a business not on the platform: its owner gets an e-mail with a link."""
    invitation, link = invitations.invite(
        db,
        actor,
        from_business_id=parse_uuid(business_id),
        data=body,
        public_url=request.app.state.settings.public_url,
        user_id=actor.user_id,
    )
    return {"id": str(invitation.id), "email": invitation.email, "link": link}
