"""Imports through HTTP: the API for scripts and the upload page with its job progress."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.app import create_app
from crosspromo.settings import Settings
from tests.conftest import make_owner, sign_in

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
SELECT = re.compile(r'<select name="(column-\d+)"[^>]*>(.*?)</select>', re.S)
SELECTED = re.compile(r'<option value="([^"]*)" selected')


def confirm_mapping(client: TestClient, html: str, change: dict[str, str] | None = None) -> Any:
    """Submit the mapping step as suggested (with `change`s by select name); the response."""
    form = dict(HIDDEN.findall(html))
    for name, options in SELECT.findall(html):
        chosen = SELECTED.search(options)
        form[name] = chosen.group(1) if chosen else ""
    form.update(change or {})
    action = re.search(r'<form method="post" action="([^"]+/imports/map)"', html)
    assert action is not None, html
    return client.post(action.group(1), data=form, follow_redirects=False)


def finish_job(client: TestClient, response: Any) -> Any:
    """Follow a started job to its end; the job page's last state."""
    assert response.status_code == 303, response.text
    job_url = response.headers["location"]
    for _ in range(200):
        page = client.get(job_url, headers={"HX-Request": "true"})
        if "hx-trigger" not in page.text:
            return page
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


CUSTOMERS = "customer,email,phone\nC1,anna@example.com,\nC2,,+7 916 123-45-67\n"


def _key(db: Session, business: Any, role: Role = Role.manager) -> dict[str, str]:
    token, _ = accounts.create_api_key(db, business_id=business.id, role=role)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_import_summary_and_reimport(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    auth = _key(db, bakery)
    files = {"file": ("customers.csv", CUSTOMERS.encode(), "text/csv")}
    first = client.post(
        "/api/v1/imports/customers", headers=auth, files=files, data={"business": bakery.slug}
    )
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == 2
    again = client.post(
        "/api/v1/imports/customers", headers=auth, files=files, data={"business": bakery.slug}
    )
    assert again.json()["unchanged"] == 2


def test_api_rejection_is_problem_json_with_lines(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    auth = _key(db, bakery)
    bad = "customer,email\nC1,anna@example.com\nC2,broken\n"
    response = client.post(
        "/api/v1/imports/customers",
        headers=auth,
        data={"business": bakery.slug},
        files={"file": ("c.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/import-rejected"
    assert problem["errors"][0]["line"] == 3
    assert problem["errors"][0]["field"] == "email"
    assert problem["summary"]["error_count"] == 1
    listed = client.get(f"/api/v1/businesses/{bakery.id}", headers=auth)
    assert listed.status_code == 200


def test_api_import_cannot_reach_another_tenant(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    _, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    auth = _key(db, bakery)
    text = f"business,customer,email\n{cafe.slug},C1,anna@example.com\n"
    response = client.post(
        "/api/v1/imports/customers",
        headers=auth,
        files={"file": ("c.csv", text.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert "unknown business" in response.json()["errors"][0]["message"]
    named = client.post(
        "/api/v1/imports/customers",
        headers=auth,
        data={"business": cafe.slug},
        files={"file": ("c.csv", CUSTOMERS.encode(), "text/csv")},
    )
    assert named.status_code == 422
    assert named.json()["errors"][0]["field"] == "business"


def test_cashier_key_cannot_import(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    auth = _key(db, bakery, Role.cashier)
    response = client.post(
        "/api/v1/imports/customers",
        headers=auth,
        data={"business": bakery.slug},
        files={"file": ("c.csv", CUSTOMERS.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "business"


def _upload_customers(client: TestClient, db: Session) -> tuple[Any, Any]:
    """The bakery's owner uploads CUSTOMERS on the page; the bakery and the mapping step."""
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    csrf = sign_in(client, "a@example.com")
    response = client.post(
        f"/b/{bakery.id}/imports",
        data={"csrf_token": csrf, "kind": "customers"},
        files={"file": ("customers.csv", CUSTOMERS.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    return bakery, response


def test_upload_page_runs_a_job_and_shows_the_summary(client: TestClient, db: Session) -> None:
    bakery, response = _upload_customers(client, db)
    page = finish_job(client, confirm_mapping(client, response.text))
    assert "Imported." in page.text
    assert ">2<" in page.text.replace(" ", "")
    customers = client.get(f"/b/{bakery.id}/customers")
    assert "anna@example.com" in customers.text and "+79161234567" in customers.text


def test_another_app_server_answers_the_mapping_step(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Behind a load balancer the mapping may reach another server: the upload waits in var/."""
    bakery, response = _upload_customers(client, db)
    waiting = list((settings.var_dir / "uploads-waiting" / str(bakery.id)).iterdir())
    assert len(waiting) == 1
    other = create_app(settings)
    try:
        with TestClient(other, raise_server_exceptions=False) as second:
            second.cookies.update(client.cookies)
            page = finish_job(second, confirm_mapping(second, response.text))
            assert "Imported." in page.text
    finally:
        other.state.engine.dispose()
