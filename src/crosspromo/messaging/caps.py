"""Weekly frequency caps, charged at send time by a conditional UPDATE per key.

Each key (a person across the platform, or a person at one business) has one counter row per
ISO week. A charge is `UPDATE ... SET count = count + 1 WHERE count < cap`: on PostgreSQL the
row lock makes a second worker wait and re-check the condition after the first commits, on
SQLite writers take turns, so two workers never both send the message that breaks a cap. Keys
are charged in sorted order (no deadlock between two workers) and a refused charge gives back
the ones already taken in the same transaction.

A worker sending a batch charges it with `charge_many`: every key of the batch is created if
new and locked (`SELECT ... FOR UPDATE` in sorted key order on PostgreSQL; on SQLite the
insert already holds the one write lock), the messages are decided in order against the
counts read under that lock, and the new counts are written back in one statement. The lock
is held until the batch's transaction commits, so the guarantee is the same as one by one.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo.messaging.models import WeeklyCount


def week_of(moment: datetime) -> str:
    """The ISO week of an aware UTC instant, e.g. "2026-W48"."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _bump(session: Session, key: str, week: str, delta: int, cap: int | None) -> bool:
    statement = update(WeeklyCount).where(WeeklyCount.key == key, WeeklyCount.week == week)
    if cap is not None:
        statement = statement.where(WeeklyCount.count < cap)
    result = session.execute(
        statement.values(count=WeeklyCount.count + delta).execution_options(
            synchronize_session=False
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def charge(session: Session, limits: dict[str, int], *, now: datetime) -> bool:
    """Count one message against every key under its cap; False (and nothing counted) if any
    key is full."""
    week = week_of(now)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    taken: list[str] = []
    for key in sorted(limits):
        session.execute(
            dialect.insert(WeeklyCount)
            .values(key=key, week=week, count=0)
            .on_conflict_do_nothing(index_elements=["key", "week"])
        )
        if not _bump(session, key, week, 1, limits[key]):
            for done in taken:
                _bump(session, done, week, -1, None)
            return False
        taken.append(key)
    return True


def used(session: Session, key: str, *, now: datetime) -> int:
    """Messages counted under `key` this week."""
    found = session.get(WeeklyCount, (key, week_of(now)))
    return found.count if found else 0


def charge_many(session: Session, requests: list[dict[str, int]], *, now: datetime) -> list[bool]:
    """`charge` for a batch of messages in a few statements: for each, whether it was counted
    (every one of its keys under its cap, in the batch's order) or refused (none counted)."""
    week = week_of(now)
    keys = sorted({key for limits in requests for key in limits})
    if not keys:
        return [True] * len(requests)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(WeeklyCount)
        .values([{"key": key, "week": week, "count": 0} for key in keys])
        .on_conflict_do_nothing(index_elements=["key", "week"])
    )
    locked = (
        select(WeeklyCount.key, WeeklyCount.count)
        .where(WeeklyCount.week == week, WeeklyCount.key.in_(keys))
        .order_by(WeeklyCount.key)
    )
    if dialect is postgresql:
        locked = locked.with_for_update()
    counts = {key: count for key, count in session.execute(locked).all()}
    start = dict(counts)
    decided = []
    for limits in requests:
        fits = all(counts[key] < cap for key, cap in limits.items())
        if fits:
            for key in limits:
                counts[key] += 1
        decided.append(fits)
    changed = [{"k": key, "c": counts[key]} for key in keys if counts[key] != start[key]]
    if changed:
        table = cast(Table, WeeklyCount.__table__)
        session.execute(
            update(table)
            .where(table.c.key == bindparam("k"), table.c.week == week)
            .values(count=bindparam("c")),
            changed,
        )
    return decided
