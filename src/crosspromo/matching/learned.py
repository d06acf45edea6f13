"""Learned relations: co-customer lift, temporal direction and substitution from shared customers.

Customers are matched only through the keyed identifier hashes (a person's key is the e-mail
hash, else the phone hash). Nothing here leaves the platform or names a person: the table
keeps counts per pair of businesses.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.db import utcnow
from crosspromo.matching.models import LearnedPair
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


def _visits(session: Session) -> Iterable[tuple[str, uuid.UUID, datetime, datetime]]:
    person = func.coalesce(Customer.email_hash, Customer.phone_hash).label("person")
    query = (
        select(person, Customer.business_id, func.min(Transaction.at), func.max(Transaction.at))
        .join(Transaction, Transaction.customer_id == Customer.id)
        .where(person.is_not(None))
        .group_by(person, Customer.business_id)
        .order_by(person)
        .execution_options(yield_per=20_000)
    )
    for row in session.execute(query):
        yield row[0], row[1], row[2], row[3]


def learn(session: Session, *, progress: Callable[[int], None] | None = None) -> int:
    """Recompute learned_pairs from all shared customers; returns the number of pairs."""
    pairs: dict[tuple[uuid.UUID, uuid.UUID], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    audience: dict[uuid.UUID, int] = defaultdict(int)
    people = 0
    current: str | None = None
    visits: list[tuple[uuid.UUID, datetime, datetime]] = []

    def close() -> None:
        nonlocal people
        if not visits:
            return
        people += 1
        for business_id, _, _ in visits:
            audience[business_id] += 1
        for (a, a_first, a_last), (b, b_first, b_last) in combinations(
            sorted(visits, key=lambda v: str(v[0])), 2
        ):
            counts = pairs[(a, b)]
            counts[0] += 1
            if a_first < b_first:
                counts[1] += 1
            if a_last < b_first or b_last < a_first:
                counts[2] += 1
            if abs((a_first - b_first).total_seconds()) <= CLOSE_DAYS * 86400:
                counts[3] += 1
        if progress is not None and people % 5000 == 0:
            progress(people)

    for key, business_id, first, last in _visits(session):
        if key != current:
            close()
            visits = []
            current = key
        visits.append((business_id, first, last))
    close()
    session.execute(delete(LearnedPair))
    now = utcnow()
    rows = []
    for (a, b), (shared, a_first, switched, near) in pairs.items():
        expected = audience[a] * audience[b] / people if people else 0
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
    """Every learned pair of a business, keyed by the partner."""
    rows = session.scalars(
        select(LearnedPair).where(
            (LearnedPair.business_a == business_id) | (LearnedPair.business_b == business_id)
        )
    )
    views: dict[uuid.UUID, PairView] = {}
    for row in rows:
        me_is_a = row.business_a == business_id
        partner = row.business_b if me_is_a else row.business_a
        partner_first = row.shared - row.a_first if me_is_a else row.a_first
        low, high = wilson(partner_first, row.shared)
        views[partner] = PairView(
            shared=row.shared,
            lift=row.lift,
            partner_first=Direction(
                partner_first / row.shared if row.shared else 0.0, low, high, row.shared
            ),
            switched_share=row.switched / row.shared if row.shared else 0.0,
            close_share=row.close / row.shared if row.shared else 0.0,
        )
    return views


@dataclass(frozen=True)
class CategoryPair:
    a: str
    b: str
    shared: int
    lift: float
    a_first: Direction
    switched_share: float


def by_category(session: Session, *, min_shared: int = 1) -> list[CategoryPair]:
    """Learned pairs summed by category pair (a < b), strongest lift first."""
    cat_a = select(Business.id, Business.category).subquery()
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    categories = dict(session.execute(select(cat_a.c.id, cat_a.c.category)).all())
    for row in session.scalars(select(LearnedPair)):
        ca, cb = categories.get(row.business_a), categories.get(row.business_b)
        if ca is None or cb is None or ca == cb:
            continue
        a_first = row.a_first
        if cb < ca:
            ca, cb, a_first = cb, ca, row.shared - row.a_first
        t = totals[(ca, cb)]
        t[0] += row.shared
        t[1] += a_first
        t[2] += row.switched
        t[3] += row.lift * row.shared
    result = []
    for (ca, cb), (shared, first, switched, weighted_lift) in totals.items():
        if shared < min_shared:
            continue
        n = int(shared)
        low, high = wilson(int(first), n)
        result.append(
            CategoryPair(
                ca,
                cb,
                n,
                weighted_lift / shared,
                Direction(first / shared, low, high, n),
                switched / shared,
            )
        )
    return sorted(result, key=lambda p: -p.lift)
