"""Team invitations by link: an owner makes a link, the person joins with the role; once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crosspromo.accounts import service
from crosspromo.accounts.models import Role, TeamInvitation
from crosspromo.db import utcnow
from crosspromo.errors import DomainError
from tests.campaigns.conftest import key
from tests.conftest import make_owner, sign_in


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _token(link: str) -> str:
    return link.rsplit("/join/", 1)[1]


def test_a_cashier_joins_by_link_and_lands_at_the_till(
    app: Any, client: TestClient, db: Session
) -> None:
    _, business = make_owner(db, "owner@example.com", "Пекарня")
    csrf = sign_in(client, "owner@example.com")
    made = client.post(
        f"/b/{business.id}/team/invitations",
        data={"csrf_token": csrf, "role": "cashier", "email": ""},
    )
    assert made.status_code == 200
    link = re.search(r'value="(http[^"]+/join/[^"]+)"', made.text)
    assert link is not None
    path = "/join/" + _token(link.group(1))
    with TestClient(app) as person:
        page = person.get(path, headers={"Accept-Language": "ru"})
        assert page.status_code == 200 and "Пекарня" in page.text and "кассир" in page.text
        joined = person.post(
            path,
            data={
                "csrf_token": _csrf(page.text),
                "email": "Till@Example.com",
                "password": "cashier-pass-1",
            },
            follow_redirects=False,
        )
        assert joined.status_code == 303
        landing = person.get("/", follow_redirects=False)
        assert landing.headers["location"] == f"/b/{business.id}/till"
        assert person.get(f"/b/{business.id}/team").status_code == 403
        # the link worked once
        again = person.get(path, headers={"Accept-Language": "ru"})
        assert again.status_code == 409 and "уже воспользовались" in again.text
    assert "till@example.com" in client.get(f"/b/{business.id}/team").text


def test_a_signed_in_person_joins_and_keeps_a_higher_role(
    app: Any, client: TestClient, db: Session
) -> None:
    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    make_owner(db, "other@example.com", "Cafe", category="amenity=cafe")
    token, _ = service.invite(
        db, workspace_id=bakery.workspace_id, business_id=bakery.id, role=Role.manager
    )
    db.commit()
    csrf = sign_in(client, "other@example.com")
    joined = client.post(f"/join/{token}", data={"csrf_token": csrf}, follow_redirects=False)
    assert joined.status_code == 303
    assert client.get(f"/b/{bakery.id}/partners").status_code == 200  # a manager's page
    # the owner of the bakery following a cashier link of its own stays owner
    own, _ = service.invite(
        db, workspace_id=bakery.workspace_id, business_id=bakery.id, role=Role.cashier
    )
    db.commit()
    with TestClient(app) as owner:
        csrf = sign_in(owner, "owner@example.com")
        owner.post(f"/join/{own}", data={"csrf_token": csrf})
        assert owner.get(f"/b/{bakery.id}/team").status_code == 200


def test_api_creates_lists_and_withdraws_links_and_mails_them(
    client: TestClient, db: Session
) -> None:
    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    _, cafe = make_owner(db, "cafe@example.com", "Cafe", category="amenity=cafe")
    owner = key(db, bakery, Role.owner)
    url = f"/api/v1/businesses/{bakery.id}/invitations"
    made = client.post(url, headers=owner, json={"role": "cashier", "email": "new@example.com"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["role"] == "cashier" and "/join/" in body["link"]
    listed = client.get(url, headers=owner).json()
    assert [i["id"] for i in listed] == [body["id"]] and "link" not in listed[0]
    from crosspromo.outbox.models import OutboxMessage

    mail = db.query(OutboxMessage).filter(OutboxMessage.key == f"team-invitation:{body['id']}")
    assert mail.one().payload["to"] == "new@example.com"
    # another business's owner can neither see nor withdraw it
    other = key(db, cafe, Role.owner)
    assert client.get(url, headers=other).status_code == 404
    foreign = client.delete(f"/api/v1/businesses/{cafe.id}/invitations/{body['id']}", headers=other)
    assert foreign.status_code == 404
    cashier = key(db, bakery, Role.cashier)
    assert client.post(url, headers=cashier, json={"role": "owner"}).status_code == 403
    gone = client.delete(f"{url}/{body['id']}", headers=owner)
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    assert client.get(url, headers=owner).json() == []
    refused = client.get(f"/join/{_token(body['link'])}")
    assert refused.status_code == 409


def test_expired_and_unknown_links_are_refused(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    token, row = service.invite(
        db, workspace_id=bakery.workspace_id, business_id=bakery.id, role=Role.cashier
    )
    db.execute(
        update(TeamInvitation)
        .where(TeamInvitation.id == row.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.commit()
    with pytest.raises(DomainError) as expired:
        service.invitation_for_token(db, token)
    assert expired.value.kind == "team-invitation-expired"
    assert client.get(f"/join/{token}").status_code == 409
    assert client.get("/join/not-a-real-token").status_code == 404


def test_two_people_using_one_link_at_once_one_joins(db: Session, settings: Any) -> None:
    from crosspromo.db import make_engine, make_sessionmaker, unit_of_work

    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    token, _ = service.invite(
        db, workspace_id=bakery.workspace_id, business_id=bakery.id, role=Role.cashier
    )
    people = [
        service.create_user(db, email=f"p{i}@example.com", password="long-password-1")
        for i in range(4)
    ]
    db.commit()
    engine = make_engine(settings.resolved_database_url())
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def use(user_id: Any) -> None:
        barrier.wait()
        try:
            with unit_of_work(factory) as session:
                user = session.get(type(people[0]), user_id)
                service.join(session, token=token, user=user)
            outcomes.append("joined")
        except DomainError as exc:
            outcomes.append(exc.kind)

    threads = [threading.Thread(target=use, args=(p.id,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert sorted(outcomes) == sorted(["team-invitation-used"] * 3 + ["joined"])
    members = service.members(db, workspace_id=bakery.workspace_id)
    assert len(members) == 2
