"""Cities that contradict the curated file: the data decides once significant, not before.

See tests/matching/cities.py for what each city plants; both engines.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.matching import learned, quality, service
from tests.matching import cities


def _suggest(db: Session, slug: str) -> dict[str, service.Suggestion]:
    me = businesses.get_by_slug(db, slug)
    assert me is not None
    return {s.business.slug: s for s in service.suggest(db, business=me, limit=10, radius_km=50)}


def _city(db: Session, scale: float) -> dict[str, Any]:
    truth = cities.build(db, seed=7, scale=scale)
    learned.learn(db)
    db.commit()
    return truth


def test_significant_data_decides(db: Session) -> None:
    truth = _city(db, scale=1.0)
    # Inverted: kitchens come before ceilings here, against the curated order.
    plasterer = _suggest(db, "plasterer-1")
    kitchen = plasterer["kitchen-1"]
    assert kitchen.direction == "before"
    assert kitchen.source == "data"
    words = " ".join(r.render("en") for r in kitchen.reasons)
    assert "another order" in words and "bought at" in words
    assert "ceilings before kitchens" not in words  # the curated note is not repeated
    ru = " ".join(r.render("ru") for r in kitchen.reasons)
    assert "общим клиентам" in ru
    # Removed: cafe and bakery share nobody; the bookshop (bought together) ranks first.
    cafe = _suggest(db, "cafe-1")
    top3 = list(cafe)[:3]
    assert all(slug.startswith("books-") for slug in top3), top3
    bakery = cafe.get("bakery-1")
    assert bakery is None or (bakery.criteria["complementarity"] < 0.1 and bakery.source == "data")
    assert cafe["books-1"].direction == "together"
    # Added: kitchen -> furniture is not curated; the data finds it with its order.
    furniture = _suggest(db, "furniture-1")
    assert {"kitchen-1", "kitchen-2", "kitchen-3"} <= set(furniture)
    assert furniture["kitchen-1"].direction == "before" and furniture["kitchen-1"].source == "data"
    found = quality.measure(db, truth, radius_km=50)
    assert found.precision >= 0.9 and found.direction >= 0.95 and found.rivals == 0, found


def test_thin_data_follows_the_curated_file(db: Session) -> None:
    _city(db, scale=0.05)
    plasterer = _suggest(db, "plasterer-1")
    assert plasterer["kitchen-1"].direction == "after"
    assert plasterer["kitchen-1"].source == "curated"
    cafe = _suggest(db, "cafe-1")
    assert list(cafe)[0].startswith("bakery-")
    assert cafe["bakery-1"].source == "curated"
    furniture = _suggest(db, "furniture-1")
    kitchen = furniture.get("kitchen-1")
    assert kitchen is None or kitchen.source == "none"


def test_relations_api_shows_what_everyone_taught(db: Session) -> None:
    from crosspromo.matching.api import relations_view

    _city(db, scale=1.0)
    view = relations_view(db, "shop=kitchen", "en")
    rows = {row["category"]: row for row in view["learned"]}
    plasterer = rows["craft=plasterer"]
    assert plasterer["business_pairs"] == 9 and plasterer["source"] == "data"
    assert plasterer["direction"] == "after"  # from the kitchen's side, ceilings come after
    assert rows["shop=furniture"]["direction"] == "after"
