"""The pipeline's entries: partners by stage, linked to their proposals.

Stages. An entry without a proposal moves from any stage to any stage, except `active`,
which needs a linked agreed proposal. An entry linked to a proposal follows it (`sync`):
an open proposal shows `proposal` (version 1) or `negotiating` (after a counter), an agreed
one shows `active`; only `paused` and `ended` override the proposal. A manual move the
proposal contradicts is refused with Conflict rather than silently undone at the next sync.
Every stage change, manual or synced, is logged as a note with its from/to stage, which is
what the `partners` fact of the targets counts.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo import paging
from crosspromo.accounts import service as accounts
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.partnerships import service as partnerships
from crosspromo.pipeline.models import Activity, Kind, PipelineEntry, Stage
from crosspromo.pipeline.schemas import (
    EntryCreate,
    EntryUpdate,
    StageMove,
)
from crosspromo.roles import Actor, Role

OVERRIDES = (Stage.paused, Stage.ended)


def _business(
    session: Session, actor: Actor, business_id: uuid.UUID, need: Role = Role.manager
) -> Business:
    return businesses.get(session, actor, business_id, need=need)


def _derived(proposal: Any) -> Stage | None:
    """The stage a proposal gives its entry; None when it gives none (declined).

    `sync` states the same rule in SQL.
    """
    status = proposal.status.value
    if status == "open":
        return Stage.negotiating if proposal.current_version > 1 else Stage.proposal
    if status == "agreed":
        return Stage.active
    return None


def _check_stage(stage: Stage, proposal: Any | None) -> None:
    if stage is Stage.active and (proposal is None or proposal.status.value != "agreed"):
        raise Conflict(
            "Only a partner with an agreed proposal is active: link the agreed proposal first.",
            field="stage",
            kind="needs-agreement",
        )
    derived = _derived(proposal) if proposal is not None else None
    if derived is not None and stage not in (derived, *OVERRIDES):
        raise Conflict(
            f"This entry follows its proposal, which makes it {derived.value}; "
            "you may pause or end it.",
            field="stage",
            kind="stage-follows-proposal",
        )


def _log_stage(
    session: Session,
    entry: PipelineEntry,
    stage: Stage,
    user_id: uuid.UUID | None,
    note: str = "",
    first: bool = False,
) -> None:
    if not first and stage is entry.stage:
        return
    session.add(
        Activity(
            entry_id=entry.id,
            kind=Kind.note,
            user_id=user_id,
            text=note,
            from_stage=None if first else entry.stage,
            to_stage=stage,
        )
    )
    entry.stage = stage
    entry.updated_at = utcnow()
    session.flush()


def _member(session: Session, business: Business, user_id: uuid.UUID, field_name: str) -> uuid.UUID:
    """`user_id` if that person is a manager or owner of the business; 422 otherwise."""
    for user, role in accounts.members(session, workspace_id=business.workspace_id):
        if user.id == user_id and role.at_least(Role.manager):
            return user_id
    raise Invalid("This person is not a manager or owner of the business.", field=field_name)


def people(session: Session, actor: Actor, business_id: uuid.UUID) -> list[tuple[Any, Role]]:
    """The managers and owners of a business, who work its pipeline."""
    business = _business(session, actor, business_id)
    return [
        (user, role)
        for user, role in accounts.members(session, workspace_id=business.workspace_id)
        if role.at_least(Role.manager)
    ]


def _linkable(
    session: Session,
    actor: Actor,
    business: Business,
    proposal_id: uuid.UUID,
    entry_id: uuid.UUID | None = None,
) -> Any:
    """A proposal the business is party to and no other entry of it follows."""
    try:
        proposal, _ = partnerships.get(session, actor, proposal_id)
    except NotFound:
        raise Invalid("No such proposal.", field="proposal_id") from None
    if business.id not in (proposal.from_business_id, proposal.to_business_id):
        raise Invalid("This business is not a party to that proposal.", field="proposal_id")
    taken = session.scalar(
        select(PipelineEntry.id).where(
            PipelineEntry.business_id == business.id,
            PipelineEntry.proposal_id == proposal.id,
        )
    )
    if taken is not None and taken != entry_id:
        raise Conflict("Another entry already follows this proposal.", field="proposal_id")
    return proposal


def _other_side(proposal: Any, business_id: uuid.UUID) -> uuid.UUID:
    return (
        proposal.to_business_id
        if proposal.from_business_id == business_id
        else proposal.from_business_id
    )


def create_entry(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    data: EntryCreate,
    user_id: uuid.UUID | None = None,
) -> PipelineEntry:
    """Add a partner to the pipeline: a platform business or a named one outside it."""
    business = _business(session, actor, business_id)
    partner_id: uuid.UUID | None = None
    name = data.partner_name.strip()
    if data.partner_business.strip():
        partner = businesses.get_by_slug(session, data.partner_business.strip().lower())
        if partner is None:
            raise Invalid("No business with that id.", field="partner_business")
        if partner.id == business.id:
            raise Invalid("A business is not its own partner.", field="partner_business")
        partner_id, name = partner.id, name or partner.name
    proposal = None
    if data.proposal_id is not None:
        proposal = _linkable(session, actor, business, data.proposal_id)
        other = _other_side(proposal, business.id)
        if partner_id is not None and partner_id != other:
            raise Invalid("The proposal is with another business.", field="proposal_id")
        partner_id = other
        if not name:
            name = next(b.name for b in businesses.by_ids(session, {other}))
    if not name:
        raise Invalid("Name the partner, or give its id on the platform.", field="partner_name")
    stage = data.stage
    if proposal is not None and "stage" not in data.model_fields_set:
        stage = _derived(proposal) or stage
    _check_stage(stage, proposal)
    if data.manager_id is not None:
        manager_id: uuid.UUID | None = _member(session, business, data.manager_id, "manager_id")
    else:
        manager_id = user_id
    entry = PipelineEntry(
        business_id=business.id,
        partner_business_id=partner_id,
        partner_name=name,
        contact=data.contact.strip(),
        stage=stage,
        manager_id=manager_id,
        next_follow_up_on=data.next_follow_up_on,
        proposal_id=proposal.id if proposal is not None else None,
    )
    session.add(entry)
    session.flush()
    _log_stage(session, entry, stage, user_id, first=True)
    return entry


def get_entry(
    session: Session, actor: Actor, *, business_id: uuid.UUID, entry_id: uuid.UUID
) -> PipelineEntry:
    """One entry of a business's pipeline; NotFound for anyone else's."""
    business = _business(session, actor, business_id)
    entry = session.scalar(
        select(PipelineEntry).where(
            PipelineEntry.id == entry_id, PipelineEntry.business_id == business.id
        )
    )
    if entry is None:
        raise NotFound("No such entry.")
    return entry


def _proposal_of(session: Session, actor: Actor, entry: PipelineEntry) -> Any | None:
    if entry.proposal_id is None:
        return None
    proposal, _ = partnerships.get(session, actor, entry.proposal_id)
    return proposal


def move(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: StageMove,
    user_id: uuid.UUID | None = None,
) -> PipelineEntry:
    """Move an entry to another stage; the change is logged."""
    entry = get_entry(session, actor, business_id=business_id, entry_id=entry_id)
    _check_stage(data.stage, _proposal_of(session, actor, entry))
    _log_stage(session, entry, data.stage, user_id, data.note.strip())
    return entry


def update_entry(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: EntryUpdate,
    user_id: uuid.UUID | None = None,
) -> PipelineEntry:
    """Change name, contact, manager, follow-up or linked proposal; only the fields sent."""
    entry = get_entry(session, actor, business_id=business_id, entry_id=entry_id)
    business = _business(session, actor, business_id)
    sent = data.model_fields_set
    if "partner_name" in sent:
        name = (data.partner_name or "").strip()
        if not name:
            raise Invalid("The partner needs a name.", field="partner_name")
        entry.partner_name = name
    if "contact" in sent:
        entry.contact = (data.contact or "").strip()
    if "manager_id" in sent:
        entry.manager_id = (
            _member(session, business, data.manager_id, "manager_id")
            if data.manager_id is not None
            else None
        )
    if "next_follow_up_on" in sent:
        entry.next_follow_up_on = data.next_follow_up_on
    if "proposal_id" in sent and data.proposal_id != entry.proposal_id:
        if data.proposal_id is None:
            if entry.stage is Stage.active:
                raise Conflict(
                    "An active partner keeps its agreement; pause or end it first.",
                    field="proposal_id",
                )
            entry.proposal_id = None
        else:
            proposal = _linkable(session, actor, business, data.proposal_id, entry.id)
            other = _other_side(proposal, business.id)
            if entry.partner_business_id not in (None, other):
                raise Invalid("The proposal is with another business.", field="proposal_id")
            entry.partner_business_id, entry.proposal_id = other, proposal.id
            derived = _derived(proposal)
            if derived is not None and entry.stage not in (derived, *OVERRIDES):
                _log_stage(session, entry, derived, user_id)
    entry.updated_at = utcnow()
    session.flush()
    return entry


def list_entries(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    stage: Stage | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[PipelineEntry], str | None]:
    """The pipeline, oldest entry first (entries follow their proposals as those change)."""
    business = _business(session, actor, business_id)
    query = select(PipelineEntry).where(PipelineEntry.business_id == business.id)
    if stage is not None:
        query = query.where(PipelineEntry.stage == stage)
    order = (PipelineEntry.created_at, PipelineEntry.id)
    query = paging.after(query, order, cursor, descending=False)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda e: (e.created_at, e.id))


def stage_counts(session: Session, actor: Actor, *, business_id: uuid.UUID) -> dict[Stage, int]:
    """How many entries sit at each stage (every stage present, zero included)."""
    business = _business(session, actor, business_id)
    counts = {stage: 0 for stage in Stage}
    rows = session.execute(
        select(PipelineEntry.stage, func.count())
        .where(PipelineEntry.business_id == business.id)
        .group_by(PipelineEntry.stage)
    ).all()
    for stage, count in rows:
        counts[Stage(stage)] = count
    return counts
