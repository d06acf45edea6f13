"""Partner suggestions recover the demo city's planted truths (ground_truth.json).

precision@10 of planted complementary partners >= 0.8, no planted competitor in any top 10,
and the direction right for >= 90% of planted ordered pairs with enough data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.matching import learned, service
from crosspromo.migrate import upgrade

pytestmark = pytest.mark.slow
RADIUS = 100.0


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, dict[str, Any]]]:
    from crosspromo.demo.generate import generate
    from crosspromo.imports import service as imports

    work = tmp_path_factory.mktemp("city")
    generate(work / "files", seed=42, size="small")
    url = f"sqlite:///{work / 'city.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        for kind in ("businesses", "customers", "transactions"):
            imports.run(db, kind=kind, path=work / "files" / f"{kind}.csv", secret_key="quality")
            db.commit()
        db.execute(update(Business).values(allow_overlap_discovery=True))
        learned.learn(db)
        db.commit()
        truth = json.loads((work / "files" / "ground_truth.json").read_text())
        yield db, truth
    engine.dispose()


def _top(db: Session, slug: str, limit: int = 10) -> list[service.Suggestion]:
    business = businesses.get_by_slug(db, slug)
    assert business is not None, slug
    return service.suggest(db, business=business, limit=limit, radius_km=RADIUS)


def test_precision_at_10_of_planted_partners(city: tuple[Session, dict[str, Any]]) -> None:
    db, truth = city
    scores = []
    for slug, planted in truth["complementary_partners"].items():
        if not planted:
            continue
        top = {s.business.slug for s in _top(db, slug)}
        scores.append(len(top & set(planted)) / min(10, len(planted)))
    assert scores, "the demo city plants no business with 3+ partners"
    precision = sum(scores) / len(scores)
    print(f"precision@10 = {precision:.3f} over {len(scores)} businesses")
    assert precision >= 0.8


def test_no_planted_competitor_in_any_top_10(city: tuple[Session, dict[str, Any]]) -> None:
    db, truth = city
    for slug, rivals in truth["competitors"].items():
        top = {s.business.slug for s in _top(db, slug)}
        assert not top & set(rivals), (slug, top & set(rivals))


def test_direction_of_planted_ordered_pairs(city: tuple[Session, dict[str, Any]]) -> None:
    db, truth = city
    right = total = 0
    for pair in truth["ordered_business_pairs"]:
        if pair.get("shared_customers", 0) < learned.MIN_SAMPLE:
            continue
        then = businesses.get_by_slug(db, pair["then"])
        first = businesses.get_by_slug(db, pair["first"])
        assert then is not None and first is not None
        _, suggestion = service.why_not(db, business=then, other=first, radius_km=RADIUS)
        if suggestion is None:
            continue
        total += 1
        right += suggestion.direction == "before"
    assert total, "no planted ordered pair with enough data"
    print(f"direction right for {right}/{total}")
    assert right / total >= 0.9
