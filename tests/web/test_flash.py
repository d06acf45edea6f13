"""A message after an action survives the redirect once, in the language of the next page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from starlette.responses import Response

from crosspromo.web import flash


def test_flash_shows_once_after_the_redirect_and_is_translated(app: Any) -> None:
    @app.get("/test-flash")
    def act() -> Response:
        return flash.redirect("/signin", "Saved.")

    with TestClient(app) as client:
        client.cookies.set("locale", "ru")
        first = client.get("/test-flash")
        assert first.url.path == "/signin"
        assert "data-flash>Сохранено.</p>" in first.text
        again = client.get("/signin")
        assert "data-flash" not in again.text


def test_a_forged_or_broken_flash_cookie_is_ignored(app: Any) -> None:
    with TestClient(app) as client:
        client.cookies.set(flash.FLASH_COOKIE, "%%%not-base64")
        assert client.get("/signin").status_code == 200
        client.cookies.set(flash.FLASH_COOKIE, "PHNjcmlwdD4=")  # "<script>", not JSON
        page = client.get("/signin")
        assert page.status_code == 200 and "data-flash" not in page.text


def test_adding_a_person_says_so_on_the_team_page(client: TestClient, db: object) -> None:
    from tests.conftest import make_owner, sign_in

    _, business = make_owner(db, "owner@example.com", "Bakery")  # type: ignore[arg-type]
    csrf = sign_in(client, "owner@example.com")
    page = client.post(
        f"/b/{business.id}/team/members",
        data={
            "csrf_token": csrf,
            "email": "till@example.com",
            "role": "cashier",
            "password": "correct horse battery",
        },
    )
    assert page.url.path == f"/b/{business.id}/team"
    assert "till@example.com was added." in page.text
