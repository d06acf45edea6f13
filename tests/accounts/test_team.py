"""The team page: owners add and remove people and create API keys; others are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import make_owner, sign_in


def test_owner_adds_a_cashier_who_cannot_reach_owner_pages(
    app: object, client: TestClient, db: Session
) -> None:
    _, business = make_owner(db, "owner@example.com", "Bakery")
    csrf = sign_in(client, "owner@example.com")
    added = client.post(
        f"/b/{business.id}/team/members",
        data={
            "csrf_token": csrf,
            "email": "Till@Example.com",
            "role": "cashier",
            "password": "cashier-pass-1",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert "till@example.com" in client.get(f"/b/{business.id}/team").text
    with TestClient(app) as till:  # type: ignore[arg-type]
        sign_in(till, "till@example.com", "cashier-pass-1")
        assert till.get(f"/b/{business.id}").status_code == 200
        assert till.get(f"/b/{business.id}/team").status_code == 403
        assert till.get(f"/b/{business.id}/profile").status_code == 403
        assert till.get(f"/b/{business.id}/imports").status_code == 403


def test_new_member_needs_a_password_and_last_owner_stays(client: TestClient, db: Session) -> None:
    owner, business = make_owner(db, "owner@example.com", "Bakery")
    csrf = sign_in(client, "owner@example.com")
    refused = client.post(
        f"/b/{business.id}/team/members",
        data={"csrf_token": csrf, "email": "new@example.com", "role": "manager"},
    )
    assert refused.status_code == 422
    assert "initial password" in refused.text
    last = client.post(
        f"/b/{business.id}/team/members/{owner.id}/remove", data={"csrf_token": csrf}
    )
    assert last.status_code == 409
    assert "cannot remove yourself" in last.text
    assert f"/team/members/{owner.id}/remove" not in client.get(f"/b/{business.id}/team").text


def test_last_owner_stays(db: Session) -> None:
    from crosspromo.accounts import service as accounts
    from crosspromo.errors import Conflict

    owner, business = make_owner(db, "owner@example.com", "Bakery")
    with pytest.raises(Conflict, match="at least one owner"):
        accounts.remove_member(db, workspace_id=business.workspace_id, user_id=owner.id)


def test_api_key_created_on_the_page_is_shown_once_and_works(
    client: TestClient, db: Session
) -> None:
    _, business = make_owner(db, "owner@example.com", "Bakery")
    csrf = sign_in(client, "owner@example.com")
    page = client.post(
        f"/b/{business.id}/team/keys",
        data={"csrf_token": csrf, "role": "cashier", "name": "till 1"},
    )
    key = page.text.split('id="new-key"', 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert key.startswith("cpk_")
    assert key not in client.get(f"/b/{business.id}/team").text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["api_key_business_id"] == str(business.id)
