"""Every page of the partnership cycle on the demo city, in Russian, saved for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, live_campaign, shot

pytestmark = pytest.mark.browser


def test_pipeline_statements_and_landing_pages_render(server: Server, browser: Any) -> None:
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    truth = Path(server.env["CROSSPROMO_VAR_DIR"]) / "demo-small-42" / "ground_truth.json"
    promotion = json.loads(truth.read_text())["promotion"]
    campaign = live_campaign(server, promotion["bakery"])
    bakery = campaign["business_id"]
    proposal = campaign["proposal_id"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(server.url + "/signin")
    page.fill("input[name=email]", "owner@demo.example")
    page.fill("input[name=password]", "demo-city-2026")
    page.click("button[type=submit]")
    page.goto(server.url + "/locale/ru?next=/")
    visits = [
        ("50-pipeline-board-ru", f"/b/{bakery}/pipeline", "Воронка"),
        ("51-pipeline-due-ru", f"/b/{bakery}/pipeline/due", ""),
        ("52-pipeline-targets-ru", f"/b/{bakery}/pipeline/targets", ""),
        ("53-reciprocity-ru", f"/b/{bakery}/pipeline/reciprocity/{proposal}", ""),
        ("54-statements-ru", f"/b/{bakery}/statements?partner={promotion['cafe']}", ""),
        ("55-campaign-ru", f"/b/{bakery}/campaigns/{campaign['id']}", "Предложения"),
        ("56-notifications-ru", "/notifications", "Уведомления"),
    ]
    for name, path, expected in visits:
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        if expected:
            assert expected in page.inner_text("main"), (path, page.inner_text("main")[:300])
        shot(page, name)
    # a referral link's public landing page, for a customer who is not signed in
    made = page.request.post(
        f"{server.url}/api/v1/offers/{_offer_id(page, server, campaign['id'])}/codes",
        headers={"X-CSRF-Token": _csrf(page)},
        data={"kind": "link", "label": "Anna, bakery"},
    )
    assert made.ok, made.text()
    codes = page.request.get(
        f"{server.url}/api/v1/offers/{_offer_id(page, server, campaign['id'])}/codes?limit=5000"
    ).json()["items"]
    link = next(c["code"] for c in codes if c["kind"] == "link")
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    landing = visitor.new_page()
    landing.set_extra_http_headers({"Accept-Language": "ru"})
    landing.goto(f"{server.url}/r/{link}")
    landing.click("form.take-code button")  # the paid click is the person's act, not the GET
    assert "Покажите этот код на кассе" in landing.inner_text("main")
    shot(landing, "57-referral-landing-ru")
    visitor.close()
    context.close()


def _offer_id(page: Any, server: Server, campaign_id: str) -> str:
    offers = page.request.get(f"{server.url}/api/v1/campaigns/{campaign_id}/offers").json()
    return str(offers[0]["id"])


def _csrf(page: Any) -> str:
    return str(
        page.eval_on_selector(
            "body", "b => JSON.parse(b.getAttribute('hx-headers'))['X-CSRF-Token']"
        )
    )
