"""Learned relations: co-customer lift, temporal direction and substitution from shared customers.

Customers are matched only through the keyed identifier hashes (a person's key is the e-mail
hash, else the phone hash). Nothing here leaves the platform or names a person: the table
keeps counts per pair of businesses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.matching import aggregates
from crosspromo.matching.models import LearnedPair, LearningState
from crosspromo.sales.models import Transaction

CLOSE_DAYS = 14  # first purchases this close count as "together", whatever came first
MIN_SAMPLE = 30  # below this many shared people a learned relation is a hint, never a fact


@dataclass(frozen=True)
class Direction:
    """Share of shared people who bought at `first` before `then`, with a 95% Wilson interval."""

    share: float
    low: float
    high: float
    sample: int

    @property
    def small_sample(self) -> bool:
        return self.sample < MIN_SAMPLE


def wilson(successes: int, total: int) -> tuple[float, float]:
    """95% Wilson score interval (statsmodels)."""
    if total == 0:
        return 0.0, 1.0
    # Imported here: statsmodels takes seconds to import, and start-up must stay fast.
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, total, alpha=0.05, method="wilson")
    return float(low), float(high)


# Everyone's first and last purchase per person and business, self-joined per person and
# counted per business pair, all inside the database (both engines); Python only sees pairs.
# Three steps in temporary tables, so that the big join runs on small integer keys:
# 1. businesses numbered in the order of their ids (so a.k < b.k exactly when a.id < b.id);
# 2. visits: first and last purchase per customer record (one pass over receipts grouped by
#    customer, the covering index (customer_id, at) on SQLite), then per person and
#    business, each person numbered too; indexed by person;
# 3. the self-join on the person number, grouped by the two business numbers.
_TEMP = ("learn_businesses", "learn_visits", "learn_only")
_NUMBERED = """
CREATE TEMP TABLE learn_businesses {on_commit} AS
SELECT id, CAST(ROW_NUMBER() OVER (ORDER BY id) AS INTEGER) AS k FROM businesses
"""
_VISITS = """
CREATE TEMP TABLE learn_visits {on_commit} AS
WITH receipts AS (
  SELECT customer_id, MIN(at) AS first_at, MAX(at) AS last_at FROM transactions
  WHERE customer_id IS NOT NULL GROUP BY customer_id
), records AS (
  SELECT COALESCE(c.email_hash, c.phone_hash) AS person, b.k AS business,
         MIN(r.first_at) AS first_at, MAX(r.last_at) AS last_at
  FROM receipts r JOIN customers c ON c.id = r.customer_id
  JOIN learn_businesses b ON b.id = c.business_id
  WHERE COALESCE(c.email_hash, c.phone_hash) IS NOT NULL {restrict}
  GROUP BY COALESCE(c.email_hash, c.phone_hash), b.k
)
SELECT {person} AS person, business, first_at, last_at{first_day}
FROM records
"""
# The person: numbered on SQLite (its join then walks an integer index); kept as the hash on
# PostgreSQL, whose hash join takes it as it is (numbering would cost a sort).
_PERSON = {
    "sqlite": "CAST(DENSE_RANK() OVER (ORDER BY person) AS INTEGER)",
    "postgresql": "person",
}
# first_day: SQLite compares first purchases as julian days (as before); PostgreSQL as
# timestamps, so nothing more is stored there.
_FIRST_DAY = {"sqlite": ", julianday(first_at) AS first_day", "postgresql": ""}
_CLOSE = {
    "sqlite": "ABS(a.first_day - b.first_day) <= {days}",
    "postgresql": "a.first_at BETWEEN b.first_at - INTERVAL '{days} days' "
    "AND b.first_at + INTERVAL '{days} days'",
}
_PAIRS = """
SELECT a.business, b.business, COUNT(*) AS shared,
         SUM(CASE WHEN a.first_at < b.first_at THEN 1 ELSE 0 END) AS a_first,
         SUM(CASE WHEN a.last_at < b.first_at OR b.last_at < a.first_at THEN 1 ELSE 0 END)
           AS switched,
         SUM(CASE WHEN {close} THEN 1 ELSE 0 END) AS close
  FROM learn_visits a JOIN learn_visits b ON b.person = a.person AND b.business > a.business
{where}
GROUP BY a.business, b.business
"""
# What pair_counts counts, written plainly (DuckDB's dialect; `$days` is CLOSE_DAYS): the
# reference the tests and bench/learning.py compare it with, from tables customers(id,
# business, person) and transactions(customer_id, at).
REFERENCE = """
WITH visits AS (
  SELECT c.person, c.business, MIN(t.at) AS first_at, MAX(t.at) AS last_at
  FROM customers c JOIN transactions t ON t.customer_id = c.id
  GROUP BY c.person, c.business
)
SELECT a.business, b.business, COUNT(*),
       SUM(CASE WHEN a.first_at < b.first_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN a.last_at < b.first_at OR b.last_at < a.first_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN abs(epoch(a.first_at) - epoch(b.first_at)) <= $days * 86400
           THEN 1 ELSE 0 END)
FROM visits a JOIN visits b ON a.person = b.person AND a.business < b.business
GROUP BY a.business, b.business
"""
_AUDIENCE = """
SELECT c.business_id, COUNT(DISTINCT COALESCE(c.email_hash, c.phone_hash)) FROM customers c
WHERE COALESCE(c.email_hash, c.phone_hash) IS NOT NULL
  AND EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)
GROUP BY c.business_id
"""
_PEOPLE = """
SELECT COUNT(DISTINCT COALESCE(c.email_hash, c.phone_hash)) FROM customers c
WHERE COALESCE(c.email_hash, c.phone_hash) IS NOT NULL
  AND EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)
"""
_RESTRICT = """
AND COALESCE(c.email_hash, c.phone_hash) IN (
  SELECT COALESCE(c2.email_hash, c2.phone_hash) FROM customers c2
  WHERE c2.business_id IN ({ids}))
"""
_COVERING = "person, business, first_at, last_at, first_day"
# PostgreSQL, for this transaction only: room to hash and sort the visits in memory, and no
# JIT (compiling the plan took a third of the time at 1M receipts).
WORK_MEM = "256MB"


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _bind_ids(session: Session, ids: Sequence[uuid.UUID]) -> tuple[str, dict[str, Any]]:
    """An IN list of business ids as bound parameters, stored the way each engine stores them."""
    postgres = session.get_bind().dialect.name == "postgresql"
    names = [f"b{k}" for k in range(len(ids))]
    values = {n: (i if postgres else i.hex) for n, i in zip(names, ids, strict=True)}
    return ", ".join(f":{n}" for n in names), values


def pair_counts(
    session: Session, *, only: Sequence[uuid.UUID] | None = None
) -> list[tuple[uuid.UUID, uuid.UUID, int, int, int, int]]:
    """(a, b, shared, a_first, switched, close) per business pair (a < b), counted in SQL.

    `only`: just the pairs touching these businesses (an incremental run).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    params: dict[str, Any] = {}
    restrict = where = ""
    if only is not None:
        if not only:
            return []
        ids, params = _bind_ids(session, only)
        restrict = _RESTRICT.format(ids=ids)
        touched = "(SELECT k FROM learn_only)"
        where = f"WHERE a.business IN {touched} OR b.business IN {touched}"
    on_commit = "ON COMMIT DROP" if postgres else ""
    settings: list[tuple[str, str]] = []
    if postgres:
        for name, value in (("work_mem", WORK_MEM), ("jit", "off")):
            settings.append((name, str(session.scalar(text(f"SHOW {name}")))))
            session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    for name in _TEMP:
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(text(_NUMBERED.format(on_commit=on_commit)))
    session.execute(text("CREATE UNIQUE INDEX learn_businesses_id ON learn_businesses (id)"))
    key = [uuid.UUID(int=0)]  # business numbers count from 1
    found: list[tuple[uuid.UUID, uuid.UUID, int, int, int, int]]
    key.extend(
        _uuid(i) for i in session.scalars(text("SELECT id FROM learn_businesses ORDER BY k"))
    )
    engine = "postgresql" if postgres else "sqlite"
    visits = _VISITS.format(
        on_commit=on_commit, restrict=restrict, first_day=_FIRST_DAY[engine], person=_PERSON[engine]
    )
    session.execute(text(visits), params)
    if not postgres:  # the self-join walks this covering index; PostgreSQL hashes
        session.execute(text(f"CREATE INDEX learn_visits_person ON learn_visits ({_COVERING})"))
    session.execute(text("ANALYZE learn_visits"))
    close = _CLOSE[engine].format(days=CLOSE_DAYS)
    if only is not None:
        session.execute(
            text(
                f"CREATE TEMP TABLE learn_only {on_commit} AS "
                f"SELECT k FROM learn_businesses WHERE id IN ({ids})"
            ),
            params,
        )
    # Hundreds of thousands of plain tuples: the driver's cursor, without a Row around each.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(_PAIRS.format(close=close, where=where))
        found = []
        while batch := cursor.fetchmany(50_000):
            found.extend((key[a], key[b], n, f, s, c) for a, b, n, f, s, c in batch)
    finally:
        cursor.close()
    for name in _TEMP:
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    for name, value in settings:
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    return found


def audiences(session: Session) -> tuple[dict[uuid.UUID, int], int]:
    """Distinct people per business, and on the whole platform."""
    rows = session.execute(text(_AUDIENCE))
    audience = {_uuid(r[0]): int(r[1]) for r in rows}
    people = int(session.scalar(text(_PEOPLE)) or 0)
    return audience, people


def learn(
    session: Session,
    *,
    only: Sequence[uuid.UUID] | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Recompute learned pairs (all, or those touching `only`) and the category relations.

    Returns the number of business pairs written.
    """
    say = progress or (lambda _step: None)
    mark = session.scalar(select(func.max(Transaction.id))) or 0
    say("counting shared customers")
    counts = pair_counts(session, only=only)
    say("counting audiences")
    audience, people = audiences(session)
    say(f"writing {len(counts):,} business pairs")
    if only is None:
        session.execute(delete(LearnedPair))
    else:
        for start in range(0, len(only), 500):
            chunk = list(only[start : start + 500])
            session.execute(
                delete(LearnedPair).where(
                    LearnedPair.business_a.in_(chunk) | LearnedPair.business_b.in_(chunk)
                )
            )
    now = utcnow()
    rows = []
    for a, b, shared, a_first, switched, near in counts:
        expected = audience.get(a, 0) * audience.get(b, 0) / people if people else 0
        rows.append(
            {
                "id": uuid.uuid4(),
                "business_a": a,
                "business_b": b,
                "shared": shared,
                "a_first": a_first,
                "switched": switched,
                "close": near,
                "lift": shared / expected if expected else 0.0,
                "computed_at": now,
            }
        )
    for start in range(0, len(rows), 5000):
        session.execute(insert(LearnedPair), rows[start : start + 5000])
    session.flush()
    say("summing by category")
    aggregates.learn(session, audience=audience)
    state = session.get(LearningState, 1)
    if state is None:  # the migration adds it; a database built another way gets it here
        state = LearningState(id=1, last_transaction=0, people=0, pairs=0)
        session.add(state)
    state.learned_at = now
    if only is None:
        state.full_at = now
    state.last_transaction = int(mark)
    state.people = people
    state.pairs = int(session.scalar(select(func.count()).select_from(LearnedPair)) or 0)
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class PairView:
    """A learned pair seen from one business towards a partner."""

    shared: int
    lift: float
    partner_first: Direction  # share of shared people who bought at the partner first
    switched_share: float
    close_share: float  # share whose first purchases at both came within CLOSE_DAYS

    @property
    def small_sample(self) -> bool:
        return self.shared < MIN_SAMPLE


def for_business(session: Session, *, business_id: uuid.UUID) -> dict[uuid.UUID, PairView]:
    """Learned pairs of a business with partners who allow overlap discovery, by partner.

    The caller checks that the business itself allows it: pairwise figures are opt-in.
    """
    partner = Business.id == case(
        (LearnedPair.business_a == business_id, LearnedPair.business_b),
        else_=LearnedPair.business_a,
    )
    rows = session.execute(
        select(LearnedPair)
        .join(Business, partner)
        .where(
            (LearnedPair.business_a == business_id) | (LearnedPair.business_b == business_id),
            Business.allow_overlap_discovery.is_(True),
        )
    ).scalars()
    found = list(rows)
    if not found:
        return {}
    firsts = np.array(
        [r.shared - r.a_first if r.business_a == business_id else r.a_first for r in found]
    )
    shared = np.array([r.shared for r in found])
    # One vectorised call: a business may have thousands of pairs.
    from statsmodels.stats.proportion import proportion_confint

    lows, highs = proportion_confint(firsts, np.maximum(shared, 1), alpha=0.05, method="wilson")
    views: dict[uuid.UUID, PairView] = {}
    for k, row in enumerate(found):
        other = row.business_b if row.business_a == business_id else row.business_a
        n = row.shared
        views[other] = PairView(
            shared=n,
            lift=row.lift,
            partner_first=Direction(
                firsts[k] / n if n else 0.0, float(lows[k]), float(highs[k]), n
            ),
            switched_share=row.switched / n if n else 0.0,
            close_share=row.close / n if n else 0.0,
        )
    return views
