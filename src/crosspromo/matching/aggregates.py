"""Category relations learned from everyone's shared customers, privately.

Learned pairs are summed per pair of categories, per city and over all cities. A row is used
only when it covers at least MIN_PAIRS business pairs and MIN_PEOPLE people, so it describes
two categories, never one business; it is used for every business, opted in or not (the
pairwise figures stay behind the overlap opt-in).

- lift: shared people / what chance would give (per city: |A|·|B| / people of the city);
- who bought first: the share of shared people who bought at the category_a business first;
- switched: bought at one, then only at the other (substitution).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.matching.models import CategoryRelation, LearnedPair, LearningState

MIN_PAIRS = 5  # business pairs behind a figure
MIN_PEOPLE = 50  # people behind a figure (shared, or shared by chance when none are)
EVERY_CITY = ""

_CITY_PEOPLE = """
SELECT b.city, COUNT(DISTINCT COALESCE(c.email_hash, c.phone_hash))
FROM customers c JOIN businesses b ON b.id = c.business_id
WHERE COALESCE(c.email_hash, c.phone_hash) IS NOT NULL
  AND EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)
GROUP BY b.city
"""


def _city(name: str | None) -> str:
    return (name or "").strip().casefold()


def learn(session: Session, *, audience: dict[uuid.UUID, int]) -> int:
    """Rebuild category_relations from learned_pairs and audiences; returns rows written."""
    people: dict[str, int] = defaultdict(int)
    for city, n in session.execute(text(_CITY_PEOPLE)):
        people[_city(city)] += int(n)
    where: dict[uuid.UUID, tuple[str, str]] = {}
    # Audience per (city, category): chance shares |A|·|B| / people of the city.
    sizes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for bid, category, city in session.execute(
        select(Business.id, Business.category, Business.city)
    ):
        where[bid] = (category, _city(city))
        if audience.get(bid):
            sizes[(_city(city), category)].append(audience[bid])
    # observed: (ca, cb, city) -> [business_pairs, shared, a_first, switched, close]
    seen: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for a, b, shared, a_first, switched, near in session.execute(
        select(
            LearnedPair.business_a,
            LearnedPair.business_b,
            LearnedPair.shared,
            LearnedPair.a_first,
            LearnedPair.switched,
            LearnedPair.close,
        )
    ):
        if a not in where or b not in where:
            continue
        (ca, city_a), (cb, city_b) = where[a], where[b]
        if ca == cb:
            continue
        if cb < ca:
            ca, cb, a_first = cb, ca, shared - a_first
        cities = [EVERY_CITY] + ([city_a] if city_a == city_b and city_a else [])
        for city in cities:
            row = seen[(ca, cb, city)]
            row[0] += 1
            row[1] += shared
            row[2] += a_first
            row[3] += switched
            row[4] += near
    # chance: per city, then summed over cities for the row of every city
    chance: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_city: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for (city, category), found in sizes.items():
        if city:
            by_city[city][category] = found
    for city, cats in by_city.items():
        total = people.get(city, 0)
        if not total:
            continue
        codes = sorted(cats)
        for i, ca in enumerate(codes):
            for cb in codes[i + 1 :]:
                pairs = len(cats[ca]) * len(cats[cb])
                expected = sum(cats[ca]) * sum(cats[cb]) / total
                for key in ((ca, cb, city), (ca, cb, EVERY_CITY)):
                    chance[key][0] += pairs
                    chance[key][1] += expected
    session.execute(delete(CategoryRelation))
    now = utcnow()
    rows = []
    for key in set(seen) | set(chance):
        observed = seen.get(key, [0, 0, 0, 0, 0])
        candidates, expected = chance.get(key, [0.0, 0.0])
        candidates = max(candidates, observed[0])
        # Rows that can never be used are not kept (they would only fill the table).
        if candidates < MIN_PAIRS or max(observed[1], expected) < MIN_PEOPLE:
            continue
        rows.append(
            {
                "id": uuid.uuid4(),
                "category_a": key[0],
                "category_b": key[1],
                "city": key[2],
                "candidate_pairs": int(candidates),
                "business_pairs": observed[0],
                "shared": observed[1],
                "expected": float(expected),
                "a_first": observed[2],
                "switched": observed[3],
                "close": observed[4],
                "computed_at": now,
            }
        )
    for start in range(0, len(rows), 5000):
        session.execute(insert(CategoryRelation), rows[start : start + 5000])
    session.flush()
    _CACHE.clear()
    return len(rows)


@dataclass(frozen=True)
class Figures:
    """A category pair seen from `mine` towards a partner category, ready to explain."""

    city: str  # '' when the figures come from every city
    candidate_pairs: int
    business_pairs: int
    shared: int
    expected: float
    partner_first: int  # shared people who bought at the partner category first
    switched: int
    close: int

    @property
    def lift(self) -> float:
        return self.shared / self.expected if self.expected else 0.0

    @property
    def ordered(self) -> bool:
        """Enough shared people in enough pairs to speak about who comes first."""
        return self.business_pairs >= MIN_PAIRS and self.shared >= MIN_PEOPLE


Row = tuple[int, int, int, int, int, int, float]


@dataclass
class _Loaded:
    version: Any
    checked: float
    rows: dict[tuple[str, str, str], Row]
    partners: dict[str, set[str]]  # category -> categories it has a row with
    taught: dict[str, Any] | None  # what results taught (matching.feedback)


_CACHE: dict[str, _Loaded] = {}
RECHECK = 2.0  # seconds between checks for a newer learning run


def _table(session: Session) -> _Loaded:
    """All rows by (a, b, city), reloaded only after a new learning run."""
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is not None and now - hit.checked < RECHECK:
        return hit
    state = session.execute(
        select(LearningState.learned_at, LearningState.feedback).where(LearningState.id == 1)
    ).first()
    version, taught = (state[0], state[1]) if state is not None else (None, None)
    if hit is not None and hit.version == version and hit.taught == taught:
        hit.checked = now
        return hit
    rows: dict[tuple[str, str, str], Row] = {}
    partners: dict[str, set[str]] = defaultdict(set)
    for r in session.scalars(select(CategoryRelation)):
        rows[(r.category_a, r.category_b, r.city)] = (
            r.candidate_pairs,
            r.business_pairs,
            r.shared,
            r.a_first,
            r.switched,
            r.close,
            r.expected,
        )
        partners[r.category_a].add(r.category_b)
        partners[r.category_b].add(r.category_a)
    loaded = _Loaded(version, now, rows, dict(partners), taught)
    _CACHE[key] = loaded
    return loaded


def forget() -> None:
    """Drop the loaded figures: the next read sees what was just written."""
    _CACHE.clear()


def version(session: Session) -> Any:
    """When the figures were last learned (changes with every learning run)."""
    return _table(session).version


def taught(session: Session) -> dict[str, Any] | None:
    """What results taught at the last learning run (weights, outcomes by category pair)."""
    return _table(session).taught


def _figures(loaded: _Loaded, mine: str, partner: str, city: str | None) -> Figures | None:
    a, b = sorted((mine, partner))
    here = _city(city)
    for place in (here, EVERY_CITY) if here else (EVERY_CITY,):
        row = loaded.rows.get((a, b, place))
        if row is None:
            continue
        candidates, pairs, shared, a_first, switched, near, expected = row
        if candidates < MIN_PAIRS or max(shared, expected) < MIN_PEOPLE:
            continue
        partner_first = a_first if a == partner else shared - a_first
        return Figures(place, candidates, pairs, shared, expected, partner_first, switched, near)
    return None


def between(session: Session, mine: str, partner: str, city: str | None) -> Figures | None:
    """The usable figures for two categories: the city's if it has enough, else every city's."""
    if mine == partner:
        return None
    return _figures(_table(session), mine, partner, city)


def for_category(session: Session, mine: str, city: str | None) -> dict[str, Figures]:
    """Every usable partner category of `mine`, keyed by the partner category."""
    loaded = _table(session)
    found: dict[str, Figures] = {}
    for other in loaded.partners.get(mine, ()):
        figures = _figures(loaded, mine, other, city)
        if figures is not None:
            found[other] = figures
    return found
