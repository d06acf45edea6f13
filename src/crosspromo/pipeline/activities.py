"""An entry's activity log and its follow-ups."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo import clock, paging
from crosspromo.db import utcnow
from crosspromo.errors import Invalid
from crosspromo.pipeline.entries import _business, get_entry
from crosspromo.pipeline.models import Activity, Kind, PipelineEntry, Stage
from crosspromo.pipeline.schemas import (
    ActivityCreate,
)
from crosspromo.roles import Actor


def log_activity(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: ActivityCreate,
    user_id: uuid.UUID | None = None,
) -> Activity:
    """Log a call, meeting, note, e-mail or order; a follow-up date sets the next reminder."""
    entry = get_entry(session, actor, business_id=business_id, entry_id=entry_id)
    business = _business(session, actor, business_id)
    now = utcnow()
    at = data.at or now
    if at > now + timedelta(minutes=5):
        raise Invalid("The log holds what happened; plan the future with a follow-up.", "at")
    if data.kind is Kind.order and data.amount_minor is None:
        raise Invalid("An order needs its amount.", field="amount_minor")
    if data.kind is not Kind.order and (data.amount_minor is not None or data.currency):
        raise Invalid("Only an order has an amount.", field="amount_minor")
    day = at.astimezone(ZoneInfo(business.timezone)).date()
    if data.follow_up_on is not None and data.follow_up_on < day:
        raise Invalid(
            f"The follow-up ({data.follow_up_on}) is before the activity ({day}).",
            field="follow_up_on",
        )
    activity = Activity(
        entry_id=entry.id,
        kind=data.kind,
        at=at,
        user_id=user_id,
        text=data.text.strip(),
        amount_minor=data.amount_minor,
        currency=(data.currency or business.currency) if data.kind is Kind.order else None,
        follow_up_on=data.follow_up_on,
    )
    session.add(activity)
    if data.follow_up_on is not None:
        entry.next_follow_up_on = data.follow_up_on
    entry.updated_at = now
    session.flush()
    return activity


def activities(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    entry_id: uuid.UUID,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Activity], str | None]:
    """An entry's log, newest first."""
    entry = get_entry(session, actor, business_id=business_id, entry_id=entry_id)
    query = select(Activity).where(Activity.entry_id == entry.id)
    query = paging.after(query, (Activity.at, Activity.id), cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda a: (a.at, a.id))


def set_follow_up(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    entry_id: uuid.UUID,
    on: date | None,
) -> PipelineEntry:
    """Set (or clear, with None) the date of the next follow-up."""
    entry = get_entry(session, actor, business_id=business_id, entry_id=entry_id)
    entry.next_follow_up_on = on
    entry.updated_at = utcnow()
    session.flush()
    return entry


def due_follow_ups(
    session: Session,
    actor: Actor,
    business_id: uuid.UUID,
    today: date | None = None,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[PipelineEntry], str | None]:
    """Entries whose follow-up is due today or overdue (ended ones excluded), oldest first."""
    business = _business(session, actor, business_id)
    today = today or clock.local_today(business)
    query = select(PipelineEntry).where(
        PipelineEntry.business_id == business.id,
        PipelineEntry.next_follow_up_on <= today,
        PipelineEntry.stage != Stage.ended,
    )
    order = (PipelineEntry.next_follow_up_on, PipelineEntry.id)
    query = paging.after(query, order, cursor, descending=False)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda e: (e.next_follow_up_on, e.id))
