"""Partners are named, not addressed by id: the "To" list offers names of businesses open to
partnerships (any case, Cyrillic too), and a proposal or why-not takes the name."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import make_owner, sign_in
from tests.partnerships.test_pages import FORM


def test_names_list_and_proposal_by_name(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    _, cafe = make_owner(db, "b@example.com", "Кофейня Зерно", category="amenity=cafe")
    _, closed = make_owner(db, "c@example.com", "Кофейня Закрытая", category="amenity=cafe")
    closed.open_to_partnerships = False
    db.commit()
    csrf = sign_in(client, "a@example.com")
    names = client.get(f"/b/{bakery.id}/partners/names", params={"to": "КОФЕЙНЯ"})
    assert names.status_code == 200
    assert '<option value="Кофейня Зерно">' in names.text
    assert "Закрытая" not in names.text and "Bakery" not in names.text
    assert client.get(f"/b/{bakery.id}/partners/names", params={"to": "%"}).text.strip() == ""
    form = client.get(f"/b/{bakery.id}/proposals/new", params={"to": cafe.slug}).text
    assert 'value="Кофейня Зерно"' in form and 'list="partner-names"' in form
    sent = client.post(
        f"/b/{bakery.id}/proposals/new",
        data={**FORM, "to": "кофейня зерно", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    why = client.get(f"/b/{bakery.id}/partners", params={"other": "Кофейня Зерно"})
    assert "<header><strong>Кофейня Зерно</strong></header>" in why.text
