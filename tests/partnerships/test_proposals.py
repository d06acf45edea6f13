"""Proposals through the API on both engines: options, counters, acceptance, conflicts, tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from tests.conftest import make_owner

OPTION: dict[str, Any] = {
    "mechanic": "joint_promotion",
    "title": "A free croissant with every coffee",
    "proposer": {"gives": "croissants", "gets": "cafe customers", "expected_result": "+30 buyers"},
    "partner": {"gives": "a flyer at the till", "gets": "bakery customers"},
    "starts_on": "2026-12-01",
    "ends_on": "2026-12-31",
    "payment_model": "barter",
}


def _key(db: Session, business: Any, role: Role) -> dict[str, str]:
    token, _ = accounts.create_api_key(db, business_id=business.id, role=role)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def parties(db: Session) -> dict[str, Any]:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    _, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    _, outsider = make_owner(db, "c@example.com", "Outsider", category="shop=florist")
    return {
        "bakery": bakery,
        "cafe": cafe,
        "outsider": outsider,
        "bakery_manager": _key(db, bakery, Role.manager),
        "bakery_owner": _key(db, bakery, Role.owner),
        "cafe_owner": _key(db, cafe, Role.owner),
        "cafe_cashier": _key(db, cafe, Role.cashier),
        "outsider_owner": _key(db, outsider, Role.owner),
    }


def _propose(client: TestClient, p: dict[str, Any], options: int = 3) -> dict[str, Any]:
    body = {
        "to_business": p["cafe"].slug,
        "message": "Let us work together",
        "options": [{**OPTION, "title": f"Option {i}"} for i in range(options)],
    }
    response = client.post(
        "/api/v1/partnerships",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json=body,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_propose_counter_accept_makes_one_agreement(
    client: TestClient, parties: dict[str, Any]
) -> None:
    p = parties
    proposal = _propose(client, p)
    url = f"/api/v1/partnerships/{proposal['id']}"
    assert len(proposal["versions"][0]["options"]) == 3
    changed = {"based_on": 1, "options": [{**OPTION, "title": "Two croissants"}], "note": "more"}
    countered = client.post(f"{url}/versions", headers=p["cafe_owner"], json=changed).json()
    assert countered["current_version"] == 2 and len(countered["versions"]) == 2
    # accepting the superseded version is refused
    old = client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 1})
    assert old.status_code == 409 and old.json()["type"] == "/problems/version-superseded"
    # the cafe's owner wrote version 2 (one option): its side's acceptance is already given
    assert countered["versions"][1]["accepted_by"] == [str(p["cafe"].id)]
    own = client.post(f"{url}/accept", headers=p["cafe_owner"], json={"version": 2})
    assert own.status_code == 200 and own.json()["status"] == "open"  # confirming: no change
    assert own.json()["versions"][1]["accepted_by"] == [str(p["cafe"].id)]
    done = client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 2}).json()
    assert done["status"] == "agreed" and done["agreed_version"] == 2
    again = client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 2})
    assert again.status_code == 200 and again.json()["agreed_version"] == 2  # no change
    other = client.post(
        f"{url}/accept", headers=p["bakery_owner"], json={"version": 2, "option": 1}
    )
    assert other.status_code == 409 and other.json()["type"] == "/problems/already-accepted"
    # after the agreement nothing changes in place: there is no edit, only a new version
    edit = client.patch(f"{url}/versions/2", headers=p["cafe_owner"], json={"options": [OPTION]})
    assert edit.status_code in (404, 405) and edit.headers["content-type"].startswith(
        "application/problem+json"
    )
    amended = client.post(
        f"{url}/versions", headers=p["cafe_owner"], json={"based_on": 2, "options": [OPTION]}
    ).json()
    # the agreement stands on version 2 until both owners accept version 3
    assert amended["status"] == "agreed" and amended["agreed_version"] == 2
    assert amended["current_version"] == 3
    declined = client.post(f"{url}/decline", headers=p["bakery_owner"], json={"reason": "no"})
    assert declined.json()["type"] == "/problems/agreement-in-force"
    stale = client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 2})
    assert stale.json()["type"] == "/problems/version-superseded"
    final = client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 3}).json()
    assert final["status"] == "agreed" and final["agreed_version"] == 3
    versions = [v["number"] for v in final["versions"]]
    assert versions == [1, 2, 3]  # every version kept


def test_roles_and_tenancy(client: TestClient, parties: dict[str, Any]) -> None:
    p = parties
    proposal = _propose(client, p)
    url = f"/api/v1/partnerships/{proposal['id']}"
    assert (
        client.post(f"{url}/accept", headers=p["bakery_manager"], json={"version": 1}).status_code
        == 403
    )
    assert client.get(url, headers=p["cafe_cashier"]).status_code == 403
    for method, path, body in (
        ("GET", url, None),
        ("POST", f"{url}/accept", {"version": 1}),
        ("POST", f"{url}/messages", {"text": "hi"}),
        ("POST", f"{url}/decline", {"reason": "no"}),
    ):
        response = client.request(method, path, headers=p["outsider_owner"], json=body)
        assert response.status_code == 404, (method, path)
    listed = client.get(
        "/api/v1/partnerships",
        params={"business_id": str(p["cafe"].id)},
        headers=p["outsider_owner"],
    )
    assert listed.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_on": "2026-11-01"}, "options.0"),
        ({"payment_model": "per_sale_percent"}, "options.0"),
        ({"mechanic": "telepathy"}, "options.0.mechanic"),
        ({"title": ""}, "options.0.title"),
    ],
)
def test_bad_options_are_refused_and_nothing_saved(
    client: TestClient, parties: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    p = parties
    body = {"to_business": p["cafe"].slug, "options": [{**OPTION, **change}]}
    response = client.post(
        "/api/v1/partnerships",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json=body,
    )
    assert response.status_code == 422
    assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.json()
    listed = client.get(
        "/api/v1/partnerships",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
    ).json()
    assert listed == {"items": [], "next_cursor": None}


def test_decline_with_reason_and_thread(client: TestClient, parties: dict[str, Any]) -> None:
    p = parties
    proposal = _propose(client, p, options=1)
    url = f"/api/v1/partnerships/{proposal['id']}"
    talk = client.post(f"{url}/messages", headers=p["cafe_owner"], json={"text": "Why December?"})
    assert talk.json()["messages"][0]["text"] == "Why December?"
    declined = client.post(
        f"{url}/decline", headers=p["cafe_owner"], json={"reason": "Too busy"}
    ).json()
    assert declined["status"] == "declined" and declined["decline_reason"] == "Too busy"
    too_late = client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 1})
    assert too_late.status_code == 409


def test_changes_between_versions() -> None:
    from crosspromo.partnerships.service import changes

    before = [{"title": "A", "proposer": {"gives": "x", "gets": "y"}}]
    after = [{"title": "B", "proposer": {"gives": "x", "gets": "z"}}, {"title": "C"}]
    assert changes(before, after) == [
        ("option 1.proposer.gets", "y", "z"),
        ("option 1.title", "A", "B"),
        ("option 2", None, {"title": "C"}),
    ]


def test_proposal_pdf_for_parties_only(client: TestClient, parties: dict[str, Any]) -> None:
    p = parties
    proposal = _propose(client, p)
    url = f"/api/v1/partnerships/{proposal['id']}/pdf"
    pdf = client.get(url, headers=p["cafe_owner"], params={"locale": "ru"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get(url, headers=p["outsider_owner"]).status_code == 404


def test_the_change_table_names_fields_as_the_form_does() -> None:
    from crosspromo.partnerships.pages import _changes

    before = [{"title": "A", "proposer": {"gives": "x"}, "tracking": ""}]
    after = [{"title": "B", "proposer": {"gives": "y"}, "tracking": "codes"}, {"title": "C"}]
    assert [
        (r["option"], r["side"], r["field"], r["old"], r["new"]) for r in _changes(before, after)
    ] == [
        ("1", "proposer", "gives", "x", "y"),
        ("1", None, "In one line", "A", "B"),
        ("1", None, "How results will be tracked", None, "codes"),
        ("2", None, "", None, "C"),
    ]
