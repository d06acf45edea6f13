"""Tell the right people about an event: in the app, and by e-mail through the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo import paging
from crosspromo.accounts.models import Membership, User
from crosspromo.businesses import categories
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.notifications.models import Notification
from crosspromo.outbox import service as outbox
from crosspromo.roles import Role
from crosspromo.web.i18n import N_, translations

# What each kind says; %(name)s slots take the event's params.
TEXTS: dict[str, str] = {
    "proposal.received": N_("%(partner)s proposes: %(title)s"),
    "proposal.countered": N_("%(partner)s sent new terms (version %(version)s)"),
    "proposal.accepted": N_("%(partner)s accepted version %(version)s"),
    "proposal.agreed": N_("Agreement with %(partner)s on version %(version)s"),
    "proposal.declined": N_("%(partner)s declined: %(reason)s"),
    "proposal.message": N_("%(partner)s wrote: %(text)s"),
    "campaign.created": N_("%(partner)s started planning the campaign %(title)s"),
    "campaign.stage": N_("Campaign %(title)s moved to %(stage)s"),
    "task.assigned": N_("New task in %(campaign)s: %(title)s, due %(due)s"),
    "task.due": N_("Task due %(due)s in %(campaign)s: %(title)s"),
    "lead.offered": N_("New lead for %(specialist)s: %(category)s, answer by %(due)s"),
    "lead.reminder": N_("Lead waiting for %(specialist)s: answer by %(due)s"),
    "lead.outcome": N_("%(partner)s: the lead you passed on is %(status)s"),
    "lead.disputed": N_("%(partner)s disputes a lead: %(reason)s"),
}

# A campaign's stage is stored as its code; the sentence names it as the stage bar does.
STAGES: dict[str, str] = {
    "preparation": N_("Preparation"),
    "agreed": N_("Agreed"),
    "running": N_("Running"),
    "results": N_("Results"),
    "closed": N_("Closed"),
}


# A lead's outcome, told back to the business that passed it on.
LEAD_STATUSES: dict[str, str] = {
    "accepted": N_("accepted"),
    "contacted": N_("contacted"),
    "won": N_("won"),
    "lost": N_("lost"),
}


def _wall_time(stored: str, locale: str) -> str:
    """A stored local wall time as people read it in `locale` ("30 нояб. 2026, 11:00")."""
    try:
        wall = datetime.strptime(stored, "%Y-%m-%d %H:%M")
    except ValueError:
        return stored
    return format_datetime(wall, "d MMM y, HH:mm", locale=Locale.parse(locale))


def text(kind: str, params: dict[str, Any], locale: str) -> str:
    """The notification's sentence in a locale."""
    catalogue = translations(locale)
    template = catalogue.gettext(TEXTS.get(kind, kind))
    if isinstance(params.get("stage"), str) and params["stage"] in STAGES:
        params = {**params, "stage": catalogue.gettext(STAGES[params["stage"]])}
    if kind == "lead.outcome" and params.get("status") in LEAD_STATUSES:
        params = {**params, "status": catalogue.gettext(LEAD_STATUSES[params["status"]])}
    if isinstance(params.get("category"), str) and (found := categories.get(params["category"])):
        params = {**params, "category": found.name(locale)}
    if isinstance(params.get("due"), str):  # a local wall time, stored as "2026-11-30 11:00"
        params = {**params, "due": _wall_time(params["due"], locale)}
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return template


def _insert(session: Session, values: dict[str, Any]) -> bool:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Notification).values(**values)
    # RETURNING tells a fresh row from a skipped duplicate on both engines (rowcount does not).
    inserted = statement.on_conflict_do_nothing(index_elements=["key"]).returning(Notification.id)
    return session.execute(inserted).scalar() is not None


def recipients(
    session: Session, business_id: uuid.UUID, *, least: Role = Role.manager
) -> list[User]:
    """People of the business's workspace with at least `least`; cashiers never by default."""
    business = session.get(Business, business_id)
    if business is None:
        return []
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == business.workspace_id)
    ).all()
    return [user for user, role in rows if Role(role).at_least(least)]


def notify(
    session: Session,
    *,
    business_id: uuid.UUID,
    kind: str,
    params: dict[str, Any],
    key: str,
    link: str = "",
    users: list[User] | None = None,
    least: Role = Role.manager,
) -> int:
    """Notify the business's people (or `users`) once per `key`; returns how many were new."""
    people = users if users is not None else recipients(session, business_id, least=least)
    made = 0
    for user in people:
        personal = f"{key}:{user.id}"
        fresh = _insert(
            session,
            {
                "id": uuid.uuid4(),
                "user_id": user.id,
                "business_id": business_id,
                "kind": kind,
                "params": params,
                "link": link,
                "key": personal,
                "created_at": utcnow(),
            },
        )
        if not fresh:
            continue
        made += 1
        locale = user.locale or "en"
        sentence = text(kind, params, locale)
        outbox.enqueue(
            session,
            kind="email",
            key=f"email:{personal}",
            payload={"to": user.email, "subject": sentence[:200], "text": sentence, "link": link},
        )
    return made


def for_user(
    session: Session, user_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
) -> list[Notification]:
    """A person's notifications, newest first (`paging` cursor)."""
    query = select(Notification).where(Notification.user_id == user_id)
    query = paging.after(query, (Notification.created_at, Notification.id), cursor)
    return list(session.scalars(query.limit(limit)))


def unread(session: Session, user_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user_id: uuid.UUID, ids: list[uuid.UUID] | None = None) -> int:
    """Mark the person's notifications read (all, or the given ones)."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
