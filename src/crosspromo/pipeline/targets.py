"""Targets per manager and month, and the fact against them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.db import utcnow
from crosspromo.pipeline.entries import _business, _member, people
from crosspromo.pipeline.models import Activity, Kind, PipelineEntry, Stage, Target
from crosspromo.pipeline.schemas import (
    TargetSet,
)
from crosspromo.roles import Actor, Role


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
    today = today or clock.local_today(business)
    start, end = clock.month_window(business, month)
    last_day = clock.shift_months(month, 1) - timedelta(days=1)
    elapsed = clock.working_days(month, min(today, last_day)) if today >= month else 0
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
