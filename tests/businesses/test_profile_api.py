"""Business profile through the HTTP API: normalisation and every kind of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from tests.conftest import make_owner


@pytest.fixture
def owner_api(client: TestClient, db: Session) -> tuple[TestClient, dict[str, str], Any]:
    _, business = make_owner(db, "owner@example.com", "Bakery")
    token, _ = accounts.create_api_key(db, business_id=business.id, role=Role.owner)
    db.commit()
    return client, {"Authorization": f"Bearer {token}"}, business


def test_patch_normalises_phone_email_website(owner_api: Any) -> None:
    client, auth, business = owner_api
    response = client.patch(
        f"/api/v1/businesses/{business.id}",
        headers=auth,
        json={
            "phone": "8 (495) 123-45-67",
            "email": "Hello@Bakery.RU",
            "website": "bakery.ru",
            "price_tier": 3,
            "avg_check_minor": 45000,
            "currency": "rub",
            "tags": ["Local", "local", "eco"],
            "customers_per_month": 1200,
            "lat": 55.75,
            "lon": 37.61,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+74951234567"
    assert body["email"] == "hello@bakery.ru"
    assert body["website"] == "https://bakery.ru"
    assert body["currency"] == "RUB"
    assert body["tags"] == ["local", "eco"]
    assert body["category_name"] == "Bakery"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"category": "shop=unicorns"}, "category"),
        ({"phone": "12"}, "phone"),
        ({"email": "no-at-sign"}, "email"),
        ({"avg_check_minor": -1}, "avg_check_minor"),
        ({"avg_check_minor": 10**15}, "avg_check_minor"),
        ({"currency": "XYZ"}, "currency"),
        ({"price_tier": 5}, "price_tier"),
        ({"name": "x" * 201}, "name"),
        ({"description": "x" * 5001}, "description"),
        ({"lat": 91}, "lat"),
        ({"country": "ZZ"}, "country"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": None}, "body"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"customers_per_month": -5}, "customers_per_month"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    owner_api: Any, db: Session, payload: dict[str, Any], field: str
) -> None:
    client, auth, business = owner_api
    response = client.patch(
        f"/api/v1/businesses/{business.id}", headers=auth, json={"city": "Changed", **payload}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/validation"
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]], problem
    db.expire_all()
    assert client.get(f"/api/v1/businesses/{business.id}", headers=auth).json()["city"] == ""


def test_create_business_in_own_workspace_only(owner_api: Any, db: Session) -> None:
    client, auth, business = owner_api
    user, _ = make_owner(db, "other@example.com", "Other")
    # API keys are bound to one business, so they cannot add businesses
    refused = client.post(
        f"/api/v1/businesses?workspace_id={business.workspace_id}",
        headers=auth,
        json={"name": "Second", "category": "amenity=cafe"},
    )
    assert refused.status_code == 404


def test_category_search_api(client: TestClient) -> None:
    ru = client.get("/api/v1/categories", params={"q": "пекарня", "locale": "ru"}).json()
    assert ru[0]["code"] == "shop=bakery"
    en = client.get("/api/v1/categories", params={"q": "bakery"}).json()
    assert en[0]["code"] == "shop=bakery"


def test_healthz_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["database"] == "ok"
    assert client.get("/api/docs").status_code == 200
    assert "/api/v1/businesses/{business_id}" in client.get("/api/openapi.json").json()["paths"]


def test_unknown_route_is_problem_json_for_api_and_page_for_people(client: TestClient) -> None:
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.json()["type"] == "/problems/not-found"
    page = client.get("/nothing-here", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "<html" in page.text and "Traceback" not in page.text


def test_category_picker_partial_finds_russian_words(client: TestClient, db: Session) -> None:
    from tests.conftest import sign_in

    make_owner(db, "owner@example.com", "Bakery")
    sign_in(client, "owner@example.com")
    html = client.get("/categories/options", params={"q": "пекарня"}).text
    assert 'data-category="shop=bakery"' in html


def test_category_picker_works_for_a_visitor_signing_up(client: TestClient) -> None:
    """The sign-up form's picker is used before anyone is signed in: no redirect to sign-in."""
    response = client.get("/categories/options", params={"q": "bakery"}, follow_redirects=False)
    assert response.status_code == 200
    assert 'data-category="shop=bakery"' in response.text
    assert "password" not in response.text.lower()


def test_api_docs_and_favicon_are_served_from_the_app_not_a_cdn(client: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    for src in ("swagger-ui-bundle.js", "swagger-ui.css", "/static/api-docs.js"):
        assert src in docs.text
    bundle = client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
