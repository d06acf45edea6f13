"""Partner suggestions through the API, the page and the tenancy wall."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.imports import service as imports
from crosspromo.matching import learned
from tests.conftest import make_owner, sign_in

CITY = (
    "id,name,category,price_tier,lat,lon\n"
    "cafe-a,Cafe A,amenity=cafe,2,55.75,37.61\n"
    "bakery-b,Bakery B,shop=bakery,2,55.751,37.612\n"
    "cafe-rival,Cafe Rival,amenity=cafe,2,55.752,37.613\n"
    "lawyer-c,Lawyer C,office=lawyer,2,55.753,37.614\n"
    "far-bakery,Far Bakery,shop=bakery,2,59.93,30.31\n"
)


def _city(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(CITY)
    imports.run(db, kind="businesses", path=path, secret_key="test-secret")
    businesses.allow_overlap_discovery(db, slugs=["cafe-a", "bakery-b"])
    learned.learn(db)
    db.commit()


def test_api_suggests_the_bakery_first_and_filters_rivals(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    _city(db, tmp_path)
    cafe = businesses.get_by_slug(db, "cafe-a")
    assert cafe is not None
    token, _ = accounts.create_api_key(db, business_id=cafe.id, role=Role.manager)
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    found = client.get(
        "/api/v1/partners/suggestions",
        headers=auth,
        params={"business_id": str(cafe.id), "locale": "ru"},
    ).json()
    slugs = [s["business"]["slug"] for s in found]
    assert slugs[0] == "bakery-b"
    assert "cafe-rival" not in slugs and "far-bakery" not in slugs and "cafe-a" not in slugs
    top = found[0]
    assert top["direction"] == "together"
    assert set(top["criteria"]) == {
        "complementarity",
        "overlap",
        "price",
        "cycle",
        "distance",
        "balance",
        "channel",
        "record",
    }
    assert all(0 <= v <= 1 for v in top["criteria"].values())
    assert any("Булочная" in r for r in top["reasons"]), top["reasons"]
    why = client.get(
        "/api/v1/partners/why-not",
        headers=auth,
        params={"business_id": str(cafe.id), "other": "cafe-rival"},
    ).json()
    assert why["blocked"] and "competitor" in why["reasons"][0].lower()
    far = client.get(
        "/api/v1/partners/why-not",
        headers=auth,
        params={"business_id": str(cafe.id), "other": "far-bakery"},
    ).json()
    assert "km away" in far["reasons"][0]


def test_other_tenants_business_is_refused(client: TestClient, db: Session) -> None:
    _, mine = make_owner(db, "a@example.com", "Mine")
    _, theirs = make_owner(db, "b@example.com", "Theirs", category="amenity=cafe")
    sign_in(client, "a@example.com")
    response = client.get("/api/v1/partners/suggestions", params={"business_id": str(theirs.id)})
    assert response.status_code == 404
    response = client.get(
        "/api/v1/partners/why-not", params={"business_id": str(theirs.id), "other": mine.slug}
    )
    assert response.status_code == 404
    assert client.get(f"/b/{mine.id}/partners").status_code == 200
    assert client.get(f"/b/{theirs.id}/partners").status_code == 404


def test_find_partners_page_shows_cards_and_why_not(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    _city(db, tmp_path)
    user, _ = make_owner(db, "owner@example.com", "Own")
    cafe = businesses.get_by_slug(db, "cafe-a")
    assert cafe is not None
    accounts.grant(db, user=user, workspace_id=cafe.workspace_id, role=Role.owner)
    db.commit()
    sign_in(client, "owner@example.com")
    page = client.get(f"/b/{cafe.id}/partners", params={"other": "lawyer-c"})
    assert 'data-partner="bakery-b"' in page.text
    assert "<progress" in page.text
    assert 'id="why-not"' in page.text
    # Plain words: no decimals, no interval jargon, no blanket warning; each card links.
    main = re.sub(r"<[^>]+>", " ", page.text.split("<main", 1)[1])  # what a reader sees
    assert not re.search(r"\d\.\d{2}", main), re.search(r".{80}\d\.\d{2}.{20}", main)
    assert "interval" not in page.text and "No partnership record" not in page.text
    assert f'href="/b/{cafe.id}/partner?slug=bakery-b"' in page.text
    profile = client.get(f"/b/{cafe.id}/partner", params={"slug": "bakery-b"})
    assert profile.status_code == 200 and "Bakery B" in profile.text
    assert "Why it fits" in profile.text and "proposals/new?to=bakery-b" in profile.text
    rival = client.get(f"/b/{cafe.id}/partner", params={"slug": "cafe-rival"})
    assert "Not among your suggestions" in rival.text and "competitor" in rival.text.lower()
    assert client.get(f"/b/{cafe.id}/partner", params={"slug": "nobody"}).status_code == 404
    assert client.get(f"/b/{cafe.id}/partner").status_code == 404
    client.get("/locale/ru")
    ru = client.get(f"/b/{cafe.id}/partners")
    assert "Почему" in ru.text or "подходит" in ru.text


def test_page_reads_odd_filter_values_without_errors(client: TestClient, db: Session) -> None:
    _, mine = make_owner(db, "a@example.com", "Mine")
    sign_in(client, "a@example.com")
    for params in (
        {"radius_km": "", "limit": ""},
        {"radius_km": "nan", "limit": "inf"},
        {"radius_km": "1e9", "limit": "-3"},
        {"radius_km": "2,5", "other": "nobody"},
    ):
        assert client.get(f"/b/{mine.id}/partners", params=params).status_code == 200, params


def test_relations_show_curated_next_to_learned(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    _city(db, tmp_path)
    _, mine = make_owner(db, "a@example.com", "Mine")
    sign_in(client, "a@example.com")
    view = client.get("/api/v1/partners/relations", params={"category": "shop=bakery"}).json()
    cafe = next(r for r in view["curated"] if r["category"] == "amenity=cafe")
    assert cafe["kind"] == "complements" and cafe["direction"] == "together"
    assert view["learned"] == []  # no shared customers yet: nothing learned, nothing invented
    bad = client.get("/api/v1/partners/relations", params={"category": "shop=unicorns"})
    assert bad.status_code == 422
