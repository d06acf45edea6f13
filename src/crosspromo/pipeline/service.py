"""Partner programme operations: the pipeline by stage, its activity log and follow-ups,
targets per manager with their fact, and reciprocity per agreement (DOMAIN.md section 8).

Only managers and owners see the pipeline (cashiers get 403); owners set targets.

Stages. An entry without a proposal moves from any stage to any stage, except `active`,
which needs a linked agreed proposal. An entry linked to a proposal follows it (`sync`):
an open proposal shows `proposal` (version 1) or `negotiating` (after a counter), an agreed
one shows `active`; only `paused` and `ended` override the proposal. A manual move the
proposal contradicts is refused with Conflict rather than silently undone at the next sync.
Every stage change, manual or synced, is logged as a note with its from/to stage, which is
what the `partners` fact of the targets counts.

Reciprocity. Exchanges (`per_month`) and indicators (`target`, read as per month) of the
agreed option say what each side owes per month. Since the start (the option's `starts_on`,
else the day of the agreement) until today (or `ends_on`), a side owes `per_month x months`,
months counted from the start day and fractional for the month under way. Each item counts
its deliveries up to what it owes, so overdoing one item does not hide another. A side is
judged once it owes at least one whole unit. The partnership is one-sided when a judged side
delivered under 50% of what it owes while the other delivered at least 80% of its own (a
side that owes nothing counts as having delivered all of it).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Option
from crosspromo.pipeline.models import Activity, Delivery, Kind, PipelineEntry, Stage, Target
from crosspromo.pipeline.schemas import (
    ActivityCreate,
    DeliveryCreate,
    EntryCreate,
    EntryUpdate,
    StageMove,
    TargetSet,
)

OVERRIDES = (Stage.paused, Stage.ended)
ONE_SIDED_BELOW = 0.5
OTHER_AT_LEAST = 0.8
JUDGED_FROM = 1.0  # units owed before a side is judged, so day one flags nobody
ONE_SIDED_RULE = (
    "One-sided: a side delivered under 50% of what it owes by now while the other "
    "delivered at least 80% of its own."
)


# --- paging -----------------------------------------------------------------------------


def _cursor(key: str, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{key}|{row_id}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[str, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        key, _, row_id = raw.rpartition("|")
        return key, uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("This cursor was not given by this list.", field="cursor") from None


def _page(rows: list[Any], limit: int, key: Callable[[Any], Any]) -> tuple[list[Any], str | None]:
    """A page from `limit + 1` rows read: the rows, and the cursor after the last if more."""
    page = rows[:limit]
    last = page[-1] if page else None
    if len(rows) <= limit or last is None or key(last) is None:
        return page, None
    return page, _cursor(key(last).isoformat(), last.id)


def _after_datetime(cursor: str) -> tuple[datetime, uuid.UUID]:
    key, row_id = _uncursor(cursor)
    try:
        return datetime.fromisoformat(key), row_id
    except ValueError:
        raise Invalid("This cursor was not given by this list.", field="cursor") from None


def _after_date(cursor: str) -> tuple[date, uuid.UUID]:
    key, row_id = _uncursor(cursor)
    try:
        return date.fromisoformat(key), row_id
    except ValueError:
        raise Invalid("This cursor was not given by this list.", field="cursor") from None


# --- dates ------------------------------------------------------------------------------


def local_today(business: Business) -> date:
    """Today in the business's time zone."""
    return datetime.now(ZoneInfo(business.timezone)).date()


def _month_window(business: Business, month: date) -> tuple[datetime, datetime]:
    """The month as a UTC interval [start, end) in the business's time zone."""
    first = month.replace(day=1)
    period = clock.span(first, _add_months(first, 1) - timedelta(days=1), business.timezone)
    return period.since, period.until


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_elapsed(start: date, until: date) -> float:
    """Months from `start` through `until` (inclusive), counted from the start day."""
    end = until + timedelta(days=1)
    if end <= start:
        return 0.0
    whole = 0
    while _add_months(start, whole + 1) <= end:
        whole += 1
    period_start, period_end = _add_months(start, whole), _add_months(start, whole + 1)
    return whole + (end - period_start).days / (period_end - period_start).days


def working_days(first: date, last: date) -> int:
    """Monday to Friday from `first` through `last`."""
    days, day = 0, first
    while day <= last:
        days += day.weekday() < 5
        day += timedelta(days=1)
    return days


# --- entries ----------------------------------------------------------------------------


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


def list_entries(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    stage: Stage | None = None,
    limit: int = 50,
    cursor: str | None = None,
    synced: bool = False,
) -> tuple[list[PipelineEntry], str | None]:
    """The pipeline, oldest entry first, after syncing it with the proposals."""
    if synced:  # the caller just ran sync()
        _business(session, actor, business_id)
    else:
        sync(session, actor, business_id=business_id)
    query = select(PipelineEntry).where(PipelineEntry.business_id == business_id)
    if stage is not None:
        query = query.where(PipelineEntry.stage == stage)
    if cursor:
        at, row_id = _after_datetime(cursor)
        query = query.where(
            or_(
                PipelineEntry.created_at > at,
                and_(PipelineEntry.created_at == at, PipelineEntry.id > row_id),
            )
        )
    rows = list(
        session.scalars(query.order_by(PipelineEntry.created_at, PipelineEntry.id).limit(limit + 1))
    )
    return _page(rows, limit, lambda e: e.created_at)


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


# --- activities and follow-ups ------------------------------------------------------------


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
    if cursor:
        at, row_id = _after_datetime(cursor)
        query = query.where(or_(Activity.at < at, and_(Activity.at == at, Activity.id < row_id)))
    rows = list(
        session.scalars(query.order_by(Activity.at.desc(), Activity.id.desc()).limit(limit + 1))
    )
    return _page(rows, limit, lambda a: a.at)


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
    today = today or local_today(business)
    query = select(PipelineEntry).where(
        PipelineEntry.business_id == business.id,
        PipelineEntry.next_follow_up_on <= today,
        PipelineEntry.stage != Stage.ended,
    )
    if cursor:
        on, row_id = _after_date(cursor)
        query = query.where(
            or_(
                PipelineEntry.next_follow_up_on > on,
                and_(PipelineEntry.next_follow_up_on == on, PipelineEntry.id > row_id),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(PipelineEntry.next_follow_up_on, PipelineEntry.id).limit(limit + 1)
        )
    )
    return _page(rows, limit, lambda e: e.next_follow_up_on)


# --- targets ----------------------------------------------------------------------------


def set_target(
    session: Session, actor: Actor, *, business_id: uuid.UUID, data: TargetSet
) -> Target:
    """An owner sets one manager's targets for a month (replacing earlier ones)."""
    business = _business(session, actor, business_id, need=Role.owner)
    _member(session, business, data.user_id, "user_id")
    target = session.scalar(
        select(Target).where(
            Target.business_id == business.id,
            Target.user_id == data.user_id,
            Target.month == data.month,
        )
    )
    if target is None:
        target = Target(business_id=business.id, user_id=data.user_id, month=data.month)
        session.add(target)
    target.partners = data.partners
    target.calls_per_day = data.calls_per_day
    target.meetings = data.meetings
    target.order_sum_minor = data.order_sum_minor
    target.currency = data.currency or business.currency
    target.updated_at = utcnow()
    session.flush()
    return target


@dataclass
class Fact:
    """One manager's targets and fact for a month."""

    user_id: uuid.UUID
    email: str
    name: str
    role: Role
    target: Target | None
    currency: str
    partners: int = 0
    calls: int = 0
    meetings: int = 0
    order_sum_minor: int = 0
    working_days: int = 0
    other_currencies: dict[str, int] = field(default_factory=dict)

    @property
    def calls_per_day(self) -> float | None:
        return round(self.calls / self.working_days, 2) if self.working_days else None

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "user_id": str(self.user_id),
            "email": self.email,
            "name": self.name,
            "role": self.role.value,
            "target": None
            if t is None
            else {
                "partners": t.partners,
                "calls_per_day": t.calls_per_day,
                "meetings": t.meetings,
                "order_sum_minor": t.order_sum_minor,
                "currency": t.currency,
            },
            "fact": {
                "partners": self.partners,
                "calls": self.calls,
                "calls_per_day": self.calls_per_day,
                "working_days": self.working_days,
                "meetings": self.meetings,
                "order_sum_minor": self.order_sum_minor,
                "currency": self.currency,
                "other_currencies": self.other_currencies,
            },
        }


def targets(
    session: Session,
    actor: Actor,
    *,
    business_id: uuid.UUID,
    month: date,
    today: date | None = None,
) -> list[Fact]:
    """Targets and fact per manager for a month.

    Calls and meetings count for whoever logged them; partners (entries that reached
    `active` in the month) and order sums count for the entry's manager.
    """
    business = _business(session, actor, business_id)
    month = month.replace(day=1)
    today = today or local_today(business)
    start, end = _month_window(business, month)
    last_day = _add_months(month, 1) - timedelta(days=1)
    elapsed = working_days(month, min(today, last_day)) if today >= month else 0
    set_targets = {
        t.user_id: t
        for t in session.scalars(
            select(Target).where(Target.business_id == business.id, Target.month == month)
        )
    }
    facts: dict[uuid.UUID, Fact] = {}
    for user, role in people(session, actor, business.id):
        target = set_targets.get(user.id)
        facts[user.id] = Fact(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=role,
            target=target,
            currency=target.currency if target else business.currency,
            working_days=elapsed,
        )
    in_month = (
        Activity.at >= start,
        Activity.at < end,
        PipelineEntry.business_id == business.id,
    )
    for user_id, kind, count in session.execute(
        select(Activity.user_id, Activity.kind, func.count())
        .join(PipelineEntry, PipelineEntry.id == Activity.entry_id)
        .where(*in_month, Activity.kind.in_((Kind.call, Kind.meeting)))
        .group_by(Activity.user_id, Activity.kind)
    ).all():
        if user_id in facts:
            if Kind(kind) is Kind.call:
                facts[user_id].calls = count
            else:
                facts[user_id].meetings = count
    for manager_id, count in session.execute(
        select(PipelineEntry.manager_id, func.count(func.distinct(PipelineEntry.id)))
        .join(Activity, PipelineEntry.id == Activity.entry_id)
        .where(*in_month, Activity.to_stage == Stage.active)
        .group_by(PipelineEntry.manager_id)
    ).all():
        if manager_id in facts:
            facts[manager_id].partners = count
    for manager_id, currency, total in session.execute(
        select(PipelineEntry.manager_id, Activity.currency, func.sum(Activity.amount_minor))
        .join(Activity, PipelineEntry.id == Activity.entry_id)
        .where(*in_month, Activity.kind == Kind.order)
        .group_by(PipelineEntry.manager_id, Activity.currency)
    ).all():
        fact = facts.get(manager_id) if manager_id is not None else None
        if fact is None:
            continue
        if currency == fact.currency:
            fact.order_sum_minor = int(total or 0)
        else:
            fact.other_currencies[str(currency)] = int(total or 0)
    return list(facts.values())


# --- reciprocity ------------------------------------------------------------------------


@dataclass
class Item:
    what: str
    kind: str  # exchange or indicator
    per_month: int
    expected: float
    delivered: int


@dataclass
class SideFigures:
    business_id: uuid.UUID
    name: str
    role: str  # proposer or partner
    items: list[Item]

    @property
    def expected(self) -> float:
        return sum(i.expected for i in self.items)

    @property
    def delivered(self) -> float:
        """Deliveries counted up to what each item owes."""
        return sum(min(float(i.delivered), i.expected) for i in self.items)

    @property
    def ratio(self) -> float | None:
        return self.delivered / self.expected if self.expected > 0 else None

    @property
    def judged(self) -> bool:
        return self.expected >= JUDGED_FROM

    def to_dict(self) -> dict[str, Any]:
        return {
            "business_id": str(self.business_id),
            "name": self.name,
            "role": self.role,
            "expected": round(self.expected, 2),
            "delivered": round(self.delivered, 2),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "items": [
                {
                    "what": i.what,
                    "kind": i.kind,
                    "per_month": i.per_month,
                    "expected": round(i.expected, 2),
                    "delivered": i.delivered,
                }
                for i in self.items
            ],
        }


@dataclass
class Reciprocity:
    proposal_id: uuid.UUID
    title: str
    starts_on: date
    until: date
    months: float
    sides: list[SideFigures]
    one_sided_business_id: uuid.UUID | None

    @property
    def one_sided(self) -> bool:
        return self.one_sided_business_id is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposal_id": str(self.proposal_id),
            "title": self.title,
            "starts_on": self.starts_on.isoformat(),
            "until": self.until.isoformat(),
            "months": round(self.months, 3),
            "sides": [s.to_dict() for s in self.sides],
            "one_sided": self.one_sided,
            "one_sided_business_id": (
                str(self.one_sided_business_id) if self.one_sided_business_id else None
            ),
            "rule": ONE_SIDED_RULE,
        }


def _one_sided(sides: list[SideFigures]) -> uuid.UUID | None:
    """The side that under-delivers while the other keeps its word (see the module doc)."""
    for side, other in ((sides[0], sides[1]), (sides[1], sides[0])):
        ratio = side.ratio or 0.0
        other_ratio = 1.0 if other.ratio is None else other.ratio
        if side.judged and ratio < ONE_SIDED_BELOW and other_ratio >= OTHER_AT_LEAST:
            return side.business_id
    return None


def _agreed(
    session: Session, actor: Actor, proposal_id: uuid.UUID
) -> tuple[Any, Business, Option, date]:
    """The proposal, the actor's side, the agreed option and its start date."""
    proposal, mine = partnerships.get(session, actor, proposal_id)
    found = partnerships.agreement(session, proposal)
    if found is None:
        raise Conflict("There is no agreement on this proposal yet.", kind="not-agreed")
    terms, index, agreed_at = found
    option = Option.model_validate(terms.options[index])
    start = option.starts_on or agreed_at.astimezone(ZoneInfo(mine.timezone)).date()
    return proposal, mine, option, start


def _owed(option: Option) -> list[tuple[str, str, int, str]]:
    """(what, kind, per month, by) for every exchange and indicator of the terms."""
    owed: list[tuple[str, str, int, str]] = [
        (e.what, "exchange", e.per_month, e.by) for e in option.exchanges
    ]
    return owed + [(i.name, "indicator", i.target, i.by) for i in option.indicators]


def reciprocity(
    session: Session, actor: Actor, *, proposal_id: uuid.UUID, today: date | None = None
) -> Reciprocity:
    """What each side of an agreement delivered against what it owes by now."""
    proposal, mine, option, start = _agreed(session, actor, proposal_id)
    today = today or local_today(mine)
    until = min(today, option.ends_on) if option.ends_on else today
    months = months_elapsed(start, until)
    delivered: dict[tuple[uuid.UUID, str], int] = {}
    for business_id, what, total in session.execute(
        select(Delivery.business_id, Delivery.what, func.sum(Delivery.quantity))
        .where(Delivery.proposal_id == proposal.id, Delivery.on >= start, Delivery.on <= until)
        .group_by(Delivery.business_id, Delivery.what)
    ).all():
        delivered[(business_id, what.casefold())] = int(total or 0)
    names = {
        b.id: b.name
        for b in businesses.by_ids(session, {proposal.from_business_id, proposal.to_business_id})
    }
    sides = []
    for role, business_id in (
        ("proposer", proposal.from_business_id),
        ("partner", proposal.to_business_id),
    ):
        items = [
            Item(
                what=what,
                kind=kind,
                per_month=per_month,
                expected=per_month * months,
                delivered=delivered.get((business_id, what.casefold()), 0),
            )
            for what, kind, per_month, by in _owed(option)
            if by == role
        ]
        sides.append(SideFigures(business_id, names.get(business_id, ""), role, items))
    return Reciprocity(
        proposal_id=proposal.id,
        title=option.title,
        starts_on=start,
        until=until,
        months=months,
        sides=sides,
        one_sided_business_id=_one_sided(sides),
    )


def record_delivery(
    session: Session,
    actor: Actor,
    *,
    proposal_id: uuid.UUID,
    data: DeliveryCreate,
    user_id: uuid.UUID | None = None,
    today: date | None = None,
) -> Delivery:
    """Record what one side delivered against an exchange or indicator of the terms."""
    proposal, mine, option, start = _agreed(session, actor, proposal_id)
    side = data.business_id or mine.id
    if side not in (proposal.from_business_id, proposal.to_business_id):
        raise Invalid("Only the two parties deliver.", field="business_id")
    role = "proposer" if side == proposal.from_business_id else "partner"
    owed = {what.casefold(): (what, by) for what, _, _, by in _owed(option)}
    match = owed.get(data.what.strip().casefold())
    if match is None:
        names = ", ".join(sorted(w for w, _ in owed.values())) or "nothing"
        raise Invalid(f"Not in the terms; they name: {names}.", field="what")
    if match[1] != role:
        raise Invalid(f"{match[0]!r} is owed by the other side.", field="what")
    today = today or local_today(mine)
    if data.on > today:
        raise Invalid(f"{data.on} is in the future.", field="on")
    if data.on < start:
        raise Invalid(f"{data.on} is before the agreement starts ({start}).", field="on")
    if option.ends_on and data.on > option.ends_on:
        raise Invalid(f"{data.on} is after the agreement ends ({option.ends_on}).", field="on")
    delivery = Delivery(
        proposal_id=proposal.id,
        business_id=side,
        what=match[0],
        quantity=data.quantity,
        on=data.on,
        note=data.note.strip(),
        user_id=user_id,
    )
    session.add(delivery)
    session.flush()
    return delivery


def deliveries(
    session: Session,
    actor: Actor,
    *,
    proposal_id: uuid.UUID,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Delivery], str | None]:
    """Deliveries of an agreement, newest first."""
    proposal, _ = partnerships.get(session, actor, proposal_id)
    query = select(Delivery).where(Delivery.proposal_id == proposal.id)
    if cursor:
        on, row_id = _after_date(cursor)
        query = query.where(or_(Delivery.on < on, and_(Delivery.on == on, Delivery.id < row_id)))
    rows = list(
        session.scalars(query.order_by(Delivery.on.desc(), Delivery.id.desc()).limit(limit + 1))
    )
    return _page(rows, limit, lambda d: d.on)
