"""The tenancy wall: signed in as an outsider, every guarded endpoint refuses a partnership's ids.

Routes are enumerated from the app by their typed permission (`crosspromo.auth.guarded`), so a
new endpoint is covered the day it is added; a route with an id parameter and no typed
permission fails here unless it is on the short allow-list below, with its reason.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.auth import GUARD
from crosspromo.roles import Role
from tests.conftest import sign_in
from tests.hardening.conftest import leads_and_messages
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, link_codes

PARAM = re.compile(r"\{(\w+)\}")

# Routes with an id in the path and no typed permission, each with the reason it needs none.
PUBLIC = {
    "/r/{token}": "the referral landing page: public, the token is the secret",
    "/r/{token}/embed": "an offer's success-page block framed by partners: public, as /r/",
    "/invite/{token}": "an invitation: public until answered, the token is the secret",
    "/loyalty/c/{token}": "a customer's own card page: public, the token is the secret",
    "/loyalty/c/{token}/card.pdf": "a customer's own card to print: as /loyalty/c/{token}",
    "/api/v1/lead-forms/{form_id}/requests": "a lead form's public request, rate limited",
    "/l/{form_id}": "a lead form's public page: anyone may ask",
    "/l/{form_id}/embed": "the same form in a partner's site (a frame)",
    "/l/consent/{token}": "a customer's consent to a hand-off: the token is the secret",
    "/join/{token}": "a team invitation: public, the token is the secret (single use)",
    "/u/{token}": "a contact's message preferences: public, the token is the secret",
    "/u/{token}/unsubscribe": "RFC 8058 one-click unsubscribe: public, the token is the secret",
    "/m/{token}/{link}": "a message's tracking link: public, the token is the secret",
    "/loyalty/join/{coalition_id}": "a coalition's card sign-up: anyone may enrol, with consent",
}


def _routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI wraps them)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_routes(route.original_router.routes))
    return found


def _guards(dependant: Dependant) -> set[str]:
    """What the route's typed permissions guard: 'business', 'campaign', 'offer', ..."""
    found = set()
    for sub in dependant.dependencies:
        mark = getattr(sub.call, GUARD, None)
        if mark is not None:
            found.add(mark[0])
        found |= _guards(sub)
    return found


def _needs(dependant: Dependant) -> set[Role]:
    """The roles the route's typed permissions ask for."""
    found = set()
    for sub in dependant.dependencies:
        mark = getattr(sub.call, GUARD, None)
        if mark is not None:
            found.add(mark[1])
        found |= _needs(sub)
    return found


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.name for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _has_id(route: APIRoute) -> bool:
    names = set(PARAM.findall(route.path))
    return any(n.endswith("_id") or n == "token" for n in names) or (
        "business_id" in _query_names(route.dependant)
    )


def test_every_route_with_an_id_has_a_typed_permission(app: Any) -> None:
    unguarded = [
        (sorted(r.methods), r.path)
        for r in _routes(app.routes)
        if _has_id(r) and not _guards(r.dependant) and r.path not in PUBLIC
    ]
    assert unguarded == [], "add a typed permission (crosspromo.auth) or a reason to PUBLIC"


def test_the_guards_cover_every_kind_of_id(app: Any) -> None:
    kinds = set().union(*(_guards(r.dependant) for r in _routes(app.routes)))
    assert {"business", "campaign", "offer", "proposal", "redemption", "lead"} <= kinds
    assert {"coalition", "loyalty-transaction", "card"} <= kinds


def _redemption(client: TestClient, db: Session, p: dict[str, Any], offer: dict[str, Any]) -> str:
    code = link_codes(client, p, offer, kind="unique", count=1)[0]["code"]
    till = {"business_id": str(p["cafe"].id), "code": code, "order_minor": 50000}
    made = client.post("/api/v1/redemptions", headers=p["cafe_cashier"], json=till)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _coalition(client: TestClient, p: dict[str, Any]) -> dict[str, str]:
    """The bakery's coalition with the cafe in it, a card and a receipt: their ids, via the API."""
    made = client.post(
        "/api/v1/loyalty/coalitions",
        headers=p["bakery_owner"],
        json={"business_id": str(p["bakery"].id), "name": "Street", "pending_days": 0},
    )
    assert made.status_code == 201, made.text
    url = f"/api/v1/loyalty/coalitions/{made.json()['id']}"
    cafe = {"business_id": str(p["cafe"].id)}
    invite = {"business_id": str(p["bakery"].id), "invitee_business_id": cafe["business_id"]}
    assert client.post(f"{url}/invitations", headers=p["bakery_owner"], json=invite).is_success
    assert client.post(f"{url}/join", headers=p["cafe_owner"], json=cafe).is_success
    card = client.post(
        "/api/v1/loyalty/cards",
        headers=p["cafe_cashier"],
        json={"coalition_id": made.json()["id"], "phone": "+79120001122", "consent": True} | cafe,
    ).json()["card"]
    earned = client.post(
        "/api/v1/loyalty/earn",
        headers=p["cafe_cashier"],
        json={"card": card, "order_minor": 100_000, "order_ref": "R1"} | cafe,
    )
    assert earned.status_code == 201, earned.text
    return {
        "coalition_id": made.json()["id"],
        "card": card,
        "transaction_id": earned.json()["transaction_id"],
    }


def test_every_guarded_route_refuses_another_tenants_ids(
    app: Any, client: TestClient, db: Session
) -> None:
    p = agree(client, db)
    offer = make_offer(client, p, p["campaign_id"])
    victim = {
        "business_id": str(p["bakery"].id),
        "campaign_id": p["campaign_id"],
        "proposal_id": p["proposal_id"],
        "offer_id": offer["id"],
        "redemption_id": _redemption(client, db, p, offer),
        # A lead form with a lead, a contact and a message: the victim's, by their real ids.
        **leads_and_messages(client, str(p["bakery"].id), p["bakery_owner"]),
        # A coalition of the two with a card and a receipt at the cafe.
        **_coalition(client, p),
    }
    own = str(p["outsider"].id)
    routes = [
        (method, r.path, "business_id" in _query_names(r.dependant))
        for r in _routes(app.routes)
        if _guards(r.dependant)
        for method in sorted(r.methods - {"HEAD", "OPTIONS"})
    ]
    above_cashier = [
        (method, r.path, "business_id" in _query_names(r.dependant))
        for r in _routes(app.routes)
        if r.path.startswith("/api/")
        and Role.cashier not in _needs(r.dependant)
        and _needs(r.dependant)
        for method in sorted(r.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) >= 60, routes
    csrf = sign_in(client, "c@example.com")
    api = p["outsider_owner"]
    checked = 0
    # All the ids the victim's, then the outsider's own business with the victim's other ids.
    for business in (victim["business_id"], own):
        ids = victim | {"business_id": business}
        for method, path, by_query in routes:
            url = PARAM.sub(lambda m, ids=ids: ids.get(m.group(1), str(uuid.uuid4())), path)
            is_api = path.startswith("/api/")
            others = set(PARAM.findall(path)) & (set(victim) - {"business_id"})
            if business == own and not others:
                continue  # only the outsider's own business: theirs to see
            response = client.request(
                method,
                url,
                params={"business_id": business} if by_query else None,
                headers=api if is_api else {"X-CSRF-Token": csrf},
                json={} if is_api and method != "GET" else None,
                data={"csrf_token": csrf} if not is_api and method != "GET" else None,
                follow_redirects=False,
            )
            checked += 1
            assert response.status_code in (403, 404), (
                method,
                url,
                response.status_code,
                response.text[:300],
            )
    assert checked >= 60
    # A cashier of a party reaches none of its own business's manager or owner routes.
    ids = victim | {"business_id": str(p["cafe"].id)}
    for method, path, by_query in above_cashier:
        url = PARAM.sub(lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)
        response = client.request(
            method,
            url,
            params={"business_id": ids["business_id"]} if by_query else None,
            headers=p["cafe_cashier"],
            json={} if method != "GET" else None,
        )
        assert response.status_code in (403, 404), (method, url, response.status_code)
    assert len(above_cashier) >= 30
    db.expire_all()
    assert db.get(type(p["bakery"]), p["bakery"].id).name == "Bakery"


def test_api_key_of_a_reaches_only_a(
    client: TestClient, db: Session, two_tenants: dict[str, Any]
) -> None:
    token, _ = accounts.create_api_key(db, business_id=two_tenants["a"].id, role=Role.owner)
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/businesses/{two_tenants['b'].id}", headers=auth).status_code == 404
    listed = client.get("/api/v1/businesses", headers=auth).json()["items"]
    assert [b["slug"] for b in listed] == [two_tenants["a"].slug]
    created = client.post(
        f"/api/v1/businesses/{two_tenants['b'].id}/api-keys", headers=auth, json={"role": "owner"}
    )
    assert created.status_code == 404


def test_malformed_ids_are_404_not_500(client: TestClient, two_tenants: dict[str, Any]) -> None:
    sign_in(client, "a@example.com")
    assert client.get("/api/v1/businesses/not-a-uuid").status_code == 404
    assert client.get("/b/not-a-uuid").status_code == 404
