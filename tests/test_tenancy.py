"""The tenancy wall: signed in as A, every business-scoped endpoint refuses B's ids with 404.

Routes are enumerated from the app, so a new endpoint is covered the day it is added.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from tests.conftest import sign_in

PARAM = re.compile(r"\{(\w+)\}")


def _routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI wraps them)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_routes(route.original_router.routes))
    return found


def _scoped_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in _routes(app.routes):
        if "{business_id}" in route.path:
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path))
    return found


def _fill(path: str, business_id: uuid.UUID) -> str:
    return PARAM.sub(
        lambda m: str(business_id) if m.group(1) == "business_id" else str(uuid.uuid4()), path
    )


def test_every_business_endpoint_refuses_other_tenants_ids(
    app: Any, client: TestClient, db: Session, two_tenants: dict[str, Any]
) -> None:
    routes = _scoped_routes(app)
    assert len(routes) >= 6, routes
    csrf = sign_in(client, "a@example.com")
    foreign = two_tenants["b"].id
    for method, path in routes:
        url = _fill(path, foreign)
        headers = {"X-CSRF-Token": csrf} if "/api/" in path else {}
        data = {"csrf_token": csrf} if "/api/" not in path else None
        body = {"name": "hijack", "role": "owner"} if "/api/" in path and method != "GET" else None
        if path.endswith("/webhooks") and method == "POST":
            body = {"url": "https://attacker.example/hook"}  # a valid body: tenancy must refuse
        response = client.request(
            method, url, headers=headers, json=body, data=data, follow_redirects=False
        )
        assert response.status_code == 404, (method, path, response.status_code, response.text)
    # and the victim's data is untouched
    db.expire_all()
    assert db.get(type(two_tenants["b"]), foreign).name == "Cafe B"


def test_api_key_of_a_reaches_only_a(
    client: TestClient, db: Session, two_tenants: dict[str, Any]
) -> None:
    token, _ = accounts.create_api_key(db, business_id=two_tenants["a"].id, role=Role.owner)
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/businesses/{two_tenants['b'].id}", headers=auth).status_code == 404
    listed = client.get("/api/v1/businesses", headers=auth).json()
    assert [b["slug"] for b in listed] == [two_tenants["a"].slug]
    created = client.post(
        f"/api/v1/businesses/{two_tenants['b'].id}/api-keys", headers=auth, json={"role": "owner"}
    )
    assert created.status_code == 404


def test_malformed_ids_are_404_not_500(client: TestClient, two_tenants: dict[str, Any]) -> None:
    sign_in(client, "a@example.com")
    assert client.get("/api/v1/businesses/not-a-uuid").status_code == 404
    assert client.get("/b/not-a-uuid").status_code == 404
