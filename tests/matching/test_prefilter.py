"""Suggestions score only the candidates that can make the list: the same list as scoring all."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import numpy as np
import pytest
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Workspace
from crosspromo.businesses.models import Business
from crosspromo.matching import aggregates, relations
from crosspromo.matching import service as matching
from crosspromo.matching.models import LearningState

# The 16 categories the curated file relates most (complements, rivals, substitutes).
_SEEN = Counter(code for r in relations.all_relations() for code in (r.a, r.b))
CATEGORIES = sorted(_SEEN, key=lambda code: (-_SEEN[code], code))[:16]


def _city(db: Session, seed: int, n: int = 300) -> list[Business]:
    rng = random.Random(seed)
    workspace = Workspace(id=uuid.uuid4(), name="city")
    db.add(workspace)
    found = []
    for i in range(n):
        placed = rng.random() > 0.05
        far = rng.random() < 0.1  # another city
        found.append(
            Business(
                workspace_id=workspace.id,
                slug=f"b{i}",
                name=f"Business {i}",
                category=rng.choice(CATEGORIES),
                price_tier=rng.randint(1, 4),
                currency="RUB",
                country="RU",
                timezone="Europe/Moscow",
                city="Москва" if not far else "Тверь",
                lat=(56.86 if far else 55.5 + rng.random() * 0.5) if placed else None,
                lon=(35.9 if far else 37.3 + rng.random() * 0.6) if placed else None,
                customers_per_month=rng.randint(50, 5000),
                tags=[],
                online_only=rng.random() < 0.05,
                open_to_partnerships=rng.random() < 0.9,
            )
        )
    db.add_all(found)
    db.flush()
    matching.cached_frame(db, refresh=True)
    return found


def _full(db: Session, business: Business, limit: int, radius: float) -> list[tuple[str, float]]:
    scored = matching._score(db, business, radius)
    return [(scored.frame.ids[i].hex, float(scored.score[i])) for i in matching._top(scored, limit)]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_prefiltered_ranking_is_the_full_ranking(db: Session, seed: int) -> None:
    city = _city(db, seed)
    rng = random.Random(seed)
    for business in rng.sample(city, 10):
        for limit, radius in ((10, 15.0), (3, 5.0), (60, 30.0)):
            got = matching.suggest(db, business=business, limit=limit, radius_km=radius)
            assert [(s.business.id.hex, s.score) for s in got] == _full(
                db, business, limit, radius
            ), (business.slug, limit, radius)


def test_someone_without_a_relation_still_fills_the_list(db: Session) -> None:
    city = _city(db, 3, n=60)
    business = city[0]
    got = matching.suggest(db, business=business, limit=50, radius_km=100)
    assert [(s.business.id.hex, s.score) for s in got] == _full(db, business, 50, 100)
    related = {b.id for b in city if relations.between(business.category, b.category)}
    assert any(s.business.id not in related for s in got)


def test_the_latitude_band_holds_everyone_within_the_radius(db: Session) -> None:
    _city(db, 4)
    frame = matching.cached_frame(db)
    for me in range(0, len(frame.ids), 7):
        if frame.lat[me] != frame.lat[me]:  # no place
            continue
        km = matching.distance_km(frame.lat[me], frame.lon[me], frame.lat, frame.lon)
        for radius in (1.0, 15.0, 150.0):
            near = frame.near(me, radius)
            assert not ((km <= radius) & ~near).any()


def test_the_category_index_finds_the_same_rows_as_a_pass_over_everyone(db: Session) -> None:
    """Rows grouped by category and latitude (`_Frame.of_categories`) miss no one in reach."""
    city = _city(db, 5)
    rng = random.Random(5)
    for business in rng.sample(city, 12):
        for radius in (2.0, 15.0, 500.0):
            given = matching._inputs(db, business, radius)
            f = given.frame
            everyone = matching._reachable(given, np.arange(len(f.ids)))
            related = given.strength[f.cat_idx[everyone]] > 0
            own = np.isin(everyone, [f.index[p] for p in given.history.own if p in f.index])
            assert matching._likely(given).tolist() == everyone[related | own].tolist()
            km = matching.distance_km(f.lat[given.me], f.lon[given.me], f.lat, f.lon)
            rival = given.competes_cat[f.cat_idx] & (np.abs(f.tier - f.tier[given.me]) < 2)
            close = (km <= radius) & f.open & ~rival
            close[given.me] = False
            assert set(np.flatnonzero(close).tolist()) <= set(everyone.tolist())


def test_an_estimated_overlap_keeps_the_ranking_of_scoring_all(db: Session) -> None:
    """With the city's reach model (matching.reach) an unrelated partner may score overlap 1."""
    city = _city(db, 6)
    state = db.get(LearningState, 1)
    assert state is not None
    # Sharing falls slowly with distance and the city is small: overlaps near 1 are common.
    state.feedback = {"reach": {"coef": [3.0, -0.01, 0.0, -0.5, -1.0], "people": 500, "pairs": 9}}
    db.flush()
    aggregates._CACHE.clear()
    frame = matching.cached_frame(db)
    frame.customers[:] = np.random.default_rng(6).integers(20, 400, len(frame.ids))
    rng = random.Random(6)
    for business in rng.sample(city, 8):
        assert matching._inputs(db, business, 15.0).reach is not None
        for limit, radius in ((10, 15.0), (3, 5.0)):
            got = matching.suggest(db, business=business, limit=limit, radius_km=radius)
            assert [(s.business.id.hex, s.score) for s in got] == _full(
                db, business, limit, radius
            ), (business.slug, limit, radius)
