"""Two owners agree through the pages: propose from a suggestion, counter, accept twice."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import make_owner, sign_in

OPTION = {
    "mechanic": "joint_promotion",
    "title": "Coffee and a croissant",
    "we_give": "croissants",
    "we_get": "visitors",
    "they_give": "a flyer",
    "they_get": "buyers",
    "starts_on": "2026-12-01",
    "ends_on": "2026-12-31",
}
FORM = {f"o0.{k}": v for k, v in OPTION.items()}
# the cafe answers from its own side: its "we" is the partner side of the terms
CAFE_FORM = {
    f"o0.{k}": v
    for k, v in {
        **OPTION,
        "we_give": "a flyer",
        "we_get": "buyers",
        "they_give": "croissants",
        "they_get": "visitors",
    }.items()
}


def test_two_owners_agree_through_the_pages(app: Any, client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    _, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    csrf_a = sign_in(client, "a@example.com")
    form = client.get(f"/b/{bakery.id}/proposals/new", params={"to": cafe.slug})
    assert 'value="Cafe"' in form.text  # the name the owner knows, not the slug
    bad = client.post(
        f"/b/{bakery.id}/proposals/new",
        data={**FORM, "o0.ends_on": "2026-11-01", "to": cafe.slug, "csrf_token": csrf_a},
    )
    assert bad.status_code == 422 and "Ends: is before the start date" in bad.text
    assert 'value="2026-11-01"' in bad.text  # what was typed stays in the form
    sent = client.post(
        f"/b/{bakery.id}/proposals/new",
        data={**FORM, "to": cafe.slug, "csrf_token": csrf_a},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    proposal_path = sent.headers["location"].split(f"/b/{bakery.id}")[1]
    with TestClient(app) as other:
        csrf_b = sign_in(other, "b@example.com")
        listing = other.get(f"/b/{cafe.id}/proposals")
        assert "Bakery" in listing.text
        cafe_view = f"/b/{cafe.id}{proposal_path}"
        assert "Coffee and a croissant" in other.get(cafe_view).text
        other.post(
            f"{cafe_view}/counter",
            data={
                **CAFE_FORM,
                "o0.title": "Two croissants",
                "o1.title": "A joint newsletter",
                "o1.mechanic": "joint_advertising",
                "o1.we_give": "a mention",
                "o1.they_give": "a mention",
                "o1.exchange_what": "newsletter mentions",
                "o1.we_per_month": "1",
                "o1.they_per_month": "2",
                "based_on": "1",
                "csrf_token": csrf_b,
            },
        )
        page = other.get(cafe_view).text
        assert "Version 2" in page and "Two croissants" in page
        assert "<del>Coffee and a croissant</del>" in page and "<ins>Two croissants</ins>" in page
        pid = proposal_path.rsplit("/", 1)[1]
        terms = other.get(f"/api/v1/partnerships/{pid}").json()["versions"][1]["options"]
        assert terms[0]["proposer"]["gives"] == "croissants"
        assert terms[0]["partner"]["gives"] == "a flyer"
        assert terms[1]["exchanges"] == [
            {"what": "newsletter mentions", "per_month": 1, "by": "partner", "sent_as": None},
            {"what": "newsletter mentions", "per_month": 2, "by": "proposer", "sent_as": None},
        ]
        stale = client.post(
            f"/b/{bakery.id}{proposal_path}/accept",
            data={"version": "1", "option": "0", "csrf_token": csrf_a},
        )
        assert stale.status_code == 409 and "superseded" in stale.text
        client.post(
            f"/b/{bakery.id}{proposal_path}/accept",
            data={"version": "2", "option": "0", "csrf_token": csrf_a},
        )
        other.post(
            f"{cafe_view}/accept", data={"version": "2", "option": "0", "csrf_token": csrf_b}
        )
        assert "agreed on version 2" in other.get(cafe_view).text
    assert "agreed on version 2" in client.get(f"/b/{bakery.id}{proposal_path}").text
