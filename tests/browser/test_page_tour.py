"""Every page of the partnership cycle on the demo city, saved for review: in Russian and
English, on a desktop and a 390-px phone (where nothing may be wider than the screen and the
till is one tap away)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, live_campaign, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def promotion(server: Server) -> dict[str, Any]:
    """The demo city, set up once for this module; its planted promotion's two partners."""
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    truth = Path(server.env["CROSSPROMO_VAR_DIR"]) / "demo-small-42" / "ground_truth.json"
    return dict(json.loads(truth.read_text())["promotion"])


def test_pipeline_statements_and_landing_pages_render(
    server: Server, browser: Any, promotion: dict[str, Any]
) -> None:
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


# The elements sticking out of the screen, for the failure message.
WIDEST = """width => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => !e.closest('nav.sections ul'))
  .slice(0, 6).map(e => [e.tagName, e.className, e.parentElement.tagName,
    e.parentElement.className, Math.round(e.getBoundingClientRect().right)].join(' '))"""
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# (name, path under the business or absolute, a word the page must show in ru / en)
TOUR = [
    ("dashboard", "", ("Сегодня", "Today")),
    ("till", "/till", ("Касса", "Till")),
    ("loyalty", "/loyalty", ("", "")),
    ("partners", "/partners", ("", "")),
    ("proposals", "/proposals", ("", "")),
    ("proposal", "/proposals/{proposal}", ("", "")),
    ("new-proposal", "/proposals/new", ("", "")),
    ("campaigns", "/campaigns", ("", "")),
    ("campaign", "/campaigns/{campaign}", ("", "")),
    ("kpis", "/kpis", ("", "")),
    ("pipeline", "/pipeline", ("", "")),
    ("statements", "/statements", ("", "")),
    ("customers", "/customers", ("", "")),
    ("imports", "/imports", ("", "")),
    ("team", "/team", ("", "")),
    ("profile", "/profile", ("", "")),
    ("notifications", "@/notifications", ("", "")),
    ("password", "@/account/password", ("", "")),
]
# English words that must not show on a Russian page's sections (a quick guard; the full
# audit of every page is tests/web/test_russian_everywhere.py).
ENGLISH_SECTIONS = ("Today", "Till", "Proposals", "Campaigns", "Customers", "Import", "Team")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_page_tour(
    server: Server, browser: Any, promotion: dict[str, Any], lang: str, size: str
) -> None:
    campaign = live_campaign(server, promotion["bakery"])
    base = f"/b/{campaign['business_id']}"
    ids = {"proposal": campaign["proposal_id"], "campaign": campaign["id"]}
    viewport = SIZES[size]
    context = browser.new_context(
        viewport=viewport, locale="ru-RU" if lang == "ru" else "en-US", is_mobile=size == "phone"
    )
    page = context.new_page()
    page.goto(f"{server.url}/locale/{lang}?next=/signin")
    shot(page, f"60-signin-{lang}-{size}")
    page.fill("input[name=email]", "owner@demo.example")
    page.fill("input[name=password]", "demo-city-2026")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    for n, (name, path, expected) in enumerate(TOUR, start=61):
        url = path[1:] if path.startswith("@") else base + path
        response = page.goto(server.url + url.format(**ids))
        assert response is not None and response.status == 200, (url, response and response.status)
        page.wait_for_load_state("networkidle")
        word = expected[0 if lang == "ru" else 1]
        if word:
            assert word in page.inner_text("body"), (url, page.inner_text("body")[:300])
        if lang == "ru":
            nav = (
                page.locator("nav.sections").inner_text()
                if page.locator("nav.sections").count()
                else ""
            )
            assert not [w for w in ENGLISH_SECTIONS if re.search(rf"\b{w}\b", nav)], (url, nav)
        wide = page.evaluate("document.scrollingElement.scrollWidth")
        assert wide <= viewport["width"], (url, wide, page.evaluate(WIDEST, viewport["width"]))
        if size == "phone" and (path == "" or path.startswith("/")):
            # the till is one tap away: a visible link, no menu to open first
            # (of the business the page is about: a campaign page may open under its partner)
            till = page.locator("nav.sections a[href$='/till']").first
            assert till.is_visible() and till.bounding_box() is not None, url
            box = till.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (url, box)
        shot(page, f"{n}-{name}-{lang}-{size}")
    context.close()
