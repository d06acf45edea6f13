"""Entries follow their proposals: written when a proposal changes, never when a page is read.

`proposal_changed` runs in the unit of work of the request that proposed, countered or accepted
(`crosspromo.events` calls it); `sync` catches a whole pipeline up (the `pipeline sync` command,
for proposals made before entries followed them).
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from typing import Any

from sqlalchemy import String, and_, case, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.partnerships import service as partnerships
from crosspromo.pipeline.entries import OVERRIDES, _business, _derived, _log_stage, _other_side
from crosspromo.pipeline.models import PipelineEntry, Stage
from crosspromo.roles import Actor


def sync(session: Session, actor: Actor, *, business_id: uuid.UUID) -> None:
    """Give every open or agreed proposal of the business an entry at the stage it implies."""
    business = _business(session, actor, business_id)
    # One query finds the few proposals out of step (no entry, or an entry at another stage);
    # with thousands of partners nothing else is loaded.
    live = partnerships.live_states(session, actor, business_id=business.id)
    derived = case(
        (live.c.status == "agreed", Stage.active.value),
        (live.c.current_version > 1, Stage.negotiating.value),
        else_=Stage.proposal.value,
    )
    entry_stage = cast(PipelineEntry.stage, String)
    stale = list(
        session.scalars(
            select(live.c.id)
            .outerjoin(
                PipelineEntry,
                and_(
                    PipelineEntry.proposal_id == live.c.id,
                    PipelineEntry.business_id == business.id,
                ),
            )
            .where(
                or_(
                    PipelineEntry.id.is_(None),
                    and_(
                        entry_stage != derived,
                        entry_stage.not_in([stage.value for stage in OVERRIDES]),
                    ),
                )
            )
        )
    )
    if not stale:
        return
    proposals = partnerships.by_ids(session, stale)
    linked = {
        e.proposal_id: e
        for e in session.scalars(
            select(PipelineEntry).where(
                PipelineEntry.business_id == business.id,
                PipelineEntry.proposal_id.in_(stale),
            )
        )
    }
    missing = [p for p in proposals if p.id not in linked]
    names = {
        b.id: b.name
        for b in businesses.by_ids(session, {_other_side(p, business.id) for p in missing})
    }
    for proposal in proposals:
        stage = _derived(proposal)
        assert stage is not None
        entry = linked.get(proposal.id)
        if entry is None:
            _adopt(session, business, proposal, stage, names)
        elif entry.stage not in (stage, *OVERRIDES):
            _log_stage(session, entry, stage, None)


def _adopt(
    session: Session, business: Business, proposal: Any, stage: Stage, names: dict[uuid.UUID, str]
) -> None:
    """Link the proposal to an unlinked entry of the same partner, or add a new entry."""
    partner_id = _other_side(proposal, business.id)
    entry = session.scalar(
        select(PipelineEntry)
        .where(
            PipelineEntry.business_id == business.id,
            PipelineEntry.partner_business_id == partner_id,
            PipelineEntry.proposal_id.is_(None),
            PipelineEntry.stage.not_in(OVERRIDES),
        )
        .order_by(PipelineEntry.created_at)
        .limit(1)
    )
    # A concurrent listing may adopt the same proposal; the unique (business, proposal)
    # makes the second one a no-op instead of a duplicate. pysqlite's SAVEPOINT would
    # commit early, and SQLite serialises writers anyway, so only PostgreSQL nests.
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        with session.begin_nested() if postgres else nullcontext():
            if entry is not None:
                entry.proposal_id = proposal.id
                session.flush()
                _log_stage(session, entry, stage, None)
                return
            author = None
            if proposal.from_business_id == business.id:
                first = partnerships.versions(session, proposal)[:1]
                author = first[0][0].author_user_id if first else None
            entry = PipelineEntry(
                business_id=business.id,
                partner_business_id=partner_id,
                partner_name=names.get(partner_id, ""),
                stage=stage,
                manager_id=author,
                proposal_id=proposal.id,
            )
            session.add(entry)
            session.flush()
            _log_stage(session, entry, stage, None, first=True)
    except IntegrityError:
        pass


def proposal_changed(session: Session, proposal: Any) -> None:
    """Bring both sides' entries to the stage the proposal now implies, adding missing ones."""
    stage = _derived(proposal)
    if stage is None:
        return
    sides = businesses.by_ids(session, {proposal.from_business_id, proposal.to_business_id})
    names = {b.id: b.name for b in sides}
    for business in sides:
        entry = session.scalar(
            select(PipelineEntry).where(
                PipelineEntry.business_id == business.id,
                PipelineEntry.proposal_id == proposal.id,
            )
        )
        if entry is None:
            _adopt(session, business, proposal, stage, names)
        elif entry.stage not in (stage, *OVERRIDES):
            _log_stage(session, entry, stage, None)
