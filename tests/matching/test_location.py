"""A new business has a city, not coordinates: it still finds partners, and is told why."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.imports import service as imports
from crosspromo.matching import service as matching

CITY = (
    "id,name,category,price_tier,city,lat,lon\n"
    "bakery-b,Bakery B,shop=bakery,2,Москва,55.751,37.612\n"
    "florist-f,Florist F,shop=florist,2,Москва,55.755,37.615\n"
    "far-bakery,Far Bakery,shop=bakery,2,Санкт-Петербург,59.93,30.31\n"
    "new-cafe,New Cafe,amenity=cafe,2,москва,,\n"
    "nowhere-cafe,Nowhere Cafe,amenity=cafe,2,,,\n"
)


def _load(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(CITY)
    imports.run(db, kind="businesses", path=path, secret_key="test-secret")
    db.commit()
    matching.cached_frame(db, refresh=True)


def test_a_business_with_only_a_city_finds_partners_in_that_city(
    db: Session, tmp_path: Path
) -> None:
    _load(db, tmp_path)
    cafe = businesses.get_by_slug(db, "new-cafe")
    assert cafe is not None
    found = [s.business.slug for s in matching.suggest(db, business=cafe)]
    assert "bakery-b" in found and "far-bakery" not in found
    far = businesses.get_by_slug(db, "far-bakery")
    assert far is not None
    reasons, _ = matching.why_not(db, business=cafe, other=far)
    text = reasons[0].render("en")
    assert "km away" in text and "inf" not in text


def test_a_business_without_any_address_is_told_to_add_one(db: Session, tmp_path: Path) -> None:
    _load(db, tmp_path)
    cafe = businesses.get_by_slug(db, "nowhere-cafe")
    assert cafe is not None
    found = matching.suggest(db, business=cafe)
    assert found, "distance cannot filter when our own place is unknown"
    warnings = [w.render("ru") for w in found[0].warnings]
    assert any("адрес" in w for w in warnings), warnings
    bakery = businesses.get_by_slug(db, "bakery-b")
    assert bakery is not None
    reasons, _ = matching.why_not(db, business=cafe, other=bakery)
    assert all("inf" not in r.render("en") for r in reasons)
