"""Inviting a business that is not on the platform: an e-mail link, then a real proposal."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crosspromo import events
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.identifiers import IdentifierError, normalize_email
from crosspromo.outbox import service as outbox
from crosspromo.partnerships.models import Invitation, Proposal, TermsVersion
from crosspromo.partnerships.schemas import InvitationCreate
from crosspromo.roles import Actor, Role


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    session: Session,
    actor: Actor,
    *,
    from_business_id: uuid.UUID,
    data: InvitationCreate,
    public_url: str,
    user_id: uuid.UUID | None = None,
) -> tuple[Invitation, str]:
    """Store the terms and e-mail a one-time link (through the outbox); the link is returned."""
    mine = businesses.get(session, actor, from_business_id, need=Role.manager)
    try:
        email = normalize_email(data.email)
    except IdentifierError as exc:
        raise Invalid(str(exc), field="email") from None
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        token_hash=_hash(token),
        email=email,
        from_business_id=mine.id,
        author_user_id=user_id,
        message=data.message,
        options=[o.model_dump(mode="json") for o in data.options],
    )
    session.add(invitation)
    session.flush()
    link = f"{public_url.rstrip('/')}/invite/{token}"
    titles = "\n".join(f"- {o.title}" for o in data.options)
    outbox.enqueue(
        session,
        kind="email",
        key=f"invitation:{invitation.id}",
        payload={
            "to": email,
            "subject": f"{mine.name} proposes a joint promotion",
            "text": f"{mine.name} proposes working together:\n{titles}\n\n{data.message}\n\n"
            f"Read the proposal and answer: {link}\n"
            f"{mine.name} предлагает совместную акцию. Ответить: {link}",
        },
    )
    return invitation, link


def find(session: Session, token: str) -> tuple[Invitation, Business]:
    """The invitation behind a link, and who sent it; the same 404 for any unknown token."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token)))
    sender = session.get(Business, invitation.from_business_id) if invitation else None
    if invitation is None or sender is None:
        raise NotFound("This invitation link is not known.")
    return invitation, sender


def answer(session: Session, actor: Actor, token: str, *, business_id: uuid.UUID) -> Proposal:
    """The invited owner takes the invitation for one of their businesses: a real proposal."""
    invitation, sender = find(session, token)
    mine = businesses.get(session, actor, business_id, need=Role.owner)
    if mine.id == sender.id:
        raise Invalid("A business cannot answer its own invitation.", field="business_id")
    # Once: the conditional UPDATE lets one answer through, even from two tabs at once.
    taken = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.answered_at.is_(None))
        .values(answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This invitation was already answered.", kind="invitation-used")
    proposal = Proposal(
        from_business_id=sender.id, to_business_id=mine.id, message=invitation.message
    )
    session.add(proposal)
    session.flush()
    session.add(
        TermsVersion(
            proposal_id=proposal.id,
            number=1,
            author_business_id=sender.id,
            author_user_id=invitation.author_user_id,
            options=invitation.options,
        )
    )
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(proposal_id=proposal.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    events.emit(session, events.PROPOSAL_CHANGED, proposal)
    return proposal
