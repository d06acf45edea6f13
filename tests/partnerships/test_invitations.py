"""A proposal to a business not on the platform: e-mail link, sign-up, a real proposal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.outbox.models import OutboxMessage
from tests.conftest import make_owner
from tests.partnerships.test_proposals import OPTION


def test_invited_owner_signs_up_and_finds_the_proposal(
    app: Any, client: TestClient, db: Session
) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    token, _ = accounts.create_api_key(db, business_id=bakery.id, role=Role.manager)
    db.commit()
    sent = client.post(
        "/api/v1/partnerships/invitations",
        params={"business_id": str(bakery.id)},
        headers={"Authorization": f"Bearer {token}"},
        json={"email": "Owner@New-Cafe.example", "message": "Hello", "options": [OPTION]},
    )
    assert sent.status_code == 201, sent.text
    link = sent.json()["link"]
    path = link.split("127.0.0.1:8000", 1)[1]
    mail = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "email"))
    assert mail is not None and mail.payload["to"] == "owner@new-cafe.example"
    assert link in mail.payload["text"]
    bad = client.post(
        "/api/v1/partnerships/invitations",
        params={"business_id": str(bakery.id)},
        headers={"Authorization": f"Bearer {token}"},
        json={"email": "not an e-mail", "options": [OPTION]},
    )
    assert bad.status_code == 422

    with TestClient(app) as guest:
        page = guest.get(path)
        assert page.status_code == 200 and "Bakery" in page.text and OPTION["title"] in page.text
        assert f"/signup?next={path}" in page.text
        form = guest.get(f"/signup?next={path}").text
        csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = guest.post(
            "/signup",
            data={
                "csrf_token": csrf,
                "next": path,
                "email": "owner@new-cafe.example",
                "password": "a long password 1",
                "business_name": "New Cafe",
                "category": "amenity=cafe",
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303 and signed.headers["location"] == path
        answer_page = guest.get(path).text
        csrf = answer_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        business_id = answer_page.split('name="business_id"><option value="', 1)[1].split('"', 1)[0]
        answered = guest.post(
            path, data={"csrf_token": csrf, "business_id": business_id}, follow_redirects=False
        )
        assert answered.status_code == 303
        proposal = guest.get(answered.headers["location"])
        assert proposal.status_code == 200 and OPTION["title"] in proposal.text
        again = guest.post(path, data={"csrf_token": csrf, "business_id": business_id})
        assert again.status_code == 409 and "already answered" in again.text
    assert client.get("/invite/not-a-token").status_code == 404
