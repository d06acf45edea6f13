"""The author of terms does not accept its own version: an owner's terms count as accepted by
its side (of several options, whichever the partner accepts); the history keeps who and when."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.partnerships.models import Acceptance, TermsVersion
from tests.conftest import make_owner, sign_in
from tests.partnerships.test_pages import CAFE_FORM, FORM


def test_one_click_agreement_and_no_buttons_on_ones_own_version(
    app: Any, client: TestClient, db: Session
) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    _, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    csrf_a = sign_in(client, "a@example.com")
    sent = client.post(
        f"/b/{bakery.id}/proposals/new",
        data={**FORM, "to": cafe.slug, "csrf_token": csrf_a},
        follow_redirects=False,
    )
    path = sent.headers["location"].split(f"/b/{bakery.id}")[1].split("?")[0]
    own = client.get(f"/b/{bakery.id}{path}").text
    assert "Accept this option" not in own and "/decline" not in own
    assert 'data-turn="waiting"' in own
    with TestClient(app) as other:
        csrf_b = sign_in(other, "b@example.com")
        cafe_view = f"/b/{cafe.id}{path}"
        theirs = other.get(cafe_view).text
        assert "Accept this option" in theirs and "/decline" in theirs
        # The cafe counters with two options; it is then the bakery's turn, not the cafe's.
        other.post(
            f"{cafe_view}/counter",
            data={
                **CAFE_FORM,
                "o1.title": "A joint newsletter",
                "o1.mechanic": "joint_advertising",
                "based_on": "1",
                "csrf_token": csrf_b,
            },
        )
        countered = other.get(cafe_view).text
        assert "Accept this option" not in countered and "/decline" not in countered
        assert "Cafe accepts whichever option the partner accepts" in countered
    mine = client.get(f"/b/{bakery.id}{path}").text
    assert mine.count("Accept this option") == 2
    client.post(
        f"/b/{bakery.id}{path}/accept", data={"version": "2", "option": "1", "csrf_token": csrf_a}
    )
    assert "agreed on version 2" in client.get(f"/b/{bakery.id}{path}").text
    db.expire_all()
    version = db.scalars(select(TermsVersion).where(TermsVersion.number == 2)).one()
    rows = db.scalars(
        select(Acceptance).where(Acceptance.version == 2).order_by(Acceptance.at)
    ).all()
    assert [(r.business_id, r.option) for r in rows] == [(cafe.id, 1), (bakery.id, 1)]
    assert rows[0].user_id == version.author_user_id  # the cafe's owner, when it wrote them
    assert rows[0].at <= rows[1].at
