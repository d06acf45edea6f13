"""Journeys in Russian on a desktop and a 390-px phone (issue 12): a visitor signs up and finds
a partner after entering an address; a cashier redeems at the till without opening anything
hidden. Every error shown on the way is Russian.

The partnership journey (propose, counter, accept, launch after confirmation) is
test_partnership_flow.py; the all-pages language audit is tests/web/test_russian_everywhere.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, live_campaign, shot
from tests.browser.test_page_tour import _csrf, _offer_id

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
ERRORS = ".field-error, [role=alert], .verdict.bad, .flash.error"
CASHIER_PASSWORD = "till-password-2026"


@pytest.fixture(scope="module")
def city(server: Server) -> dict[str, Any]:
    """The demo city (its businesses are in Moscow), set up once for the module."""
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    truth = Path(server.env["CROSSPROMO_VAR_DIR"]) / "demo-small-42" / "ground_truth.json"
    return dict(json.loads(truth.read_text())["promotion"])


@pytest.fixture(params=list(SIZES))
def russian_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[Any, str]]:
    size = str(request.param)
    context = browser.new_context(
        viewport=SIZES[size], locale="ru-RU", is_mobile=size == "phone", has_touch=size == "phone"
    )
    context.add_cookies([{"name": "locale", "value": "ru", "url": "http://127.0.0.1"}])
    page = context.new_page()
    yield page, size
    context.close()


def assert_errors_russian(page: Any, where: str) -> int:
    """Every error on the page is Russian: no Latin word of three letters or more."""
    shown = [t for t in page.locator(ERRORS).all_inner_texts() if t.strip()]
    for text in shown:
        english = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in {"mail"}]
        assert not english, (where, text)
    return len(shown)


def test_visitor_signs_up_and_finds_a_partner(
    server: Server, city: dict[str, Any], russian_page: tuple[Any, str]
) -> None:
    page, size = russian_page
    page.goto(server.url + "/signup")
    assert page.locator("html").get_attribute("lang") == "ru"
    page.fill("input[name=name]", "Анна")
    page.fill("input[name=email]", f"anna-{size}@example.com")
    page.fill("input[name=password]", "длинный пароль 2026")
    page.fill("input[name=business_name]", f"Кофейня «Утро» {size}")
    page.fill("#category-search", "кафе")
    option = page.locator("[data-category='amenity=cafe']")
    option.wait_for()
    option.click()
    page.click("form button[type=submit]")
    page.wait_for_selector("input[name=city]")
    assert "/profile" in page.url, page.url

    page.fill("input[name=city]", "Москва")
    page.fill("input[name=address]", "Тверская улица, 7")
    page.fill("input[name=phone]", "12")  # a mistyped phone: refused, in Russian
    page.click("form[action$='/profile'] button[type=submit]")
    page.wait_for_selector(ERRORS)
    assert assert_errors_russian(page, "profile") >= 1
    shot(page, f"80-profile-error-ru-{size}")
    page.fill("input[name=phone]", "8 495 123-45-67")
    page.click("form[action$='/profile'] button[type=submit]")
    page.wait_for_selector(".flash[role=status]")
    assert_errors_russian(page, "profile")
    shot(page, f"81-profile-address-ru-{size}")

    page.click("nav.sections a[href$='/partners']")
    page.wait_for_selector("article.suggestion")
    assert page.locator("article.suggestion").count() >= 1, page.inner_text("main")[:500]
    assert_errors_russian(page, "partners")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= SIZES[size]["width"]
    shot(page, f"82-partners-found-ru-{size}")


def test_cashier_redeems_at_the_till_without_opening_anything(
    server: Server, city: dict[str, Any], russian_page: tuple[Any, str], browser: Any
) -> None:
    page, size = russian_page
    cashier = f"kassa-{size}@example.com"
    server.cli(
        "user", "create", "--email", cashier, "--password", CASHIER_PASSWORD,
        "--business", city["cafe"], "--role", "cashier",
    )  # fmt: skip
    campaign = live_campaign(server, city["bakery"])
    cafe = live_campaign(server, city["cafe"])
    code = f"LOAF{size.upper()}"
    owner = browser.new_context()
    manager = owner.new_page()
    manager.goto(server.url + "/signin")
    manager.fill("input[name=email]", "owner@demo.example")
    manager.fill("input[name=password]", "demo-city-2026")
    manager.click("button[type=submit]")
    manager.wait_for_load_state()
    made = manager.request.post(
        f"{server.url}/api/v1/offers/{_offer_id(manager, server, campaign['id'])}/codes",
        headers={"X-CSRF-Token": _csrf(manager)},
        data={"kind": "shared", "text": code},
    )
    assert made.ok, made.text()
    owner.close()

    page.goto(server.url + "/signin")
    page.fill("input[name=email]", cashier)
    page.fill("input[name=password]", CASHIER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    till = f"/b/{cafe['business_id']}/till"
    if not page.url.endswith(till):
        page.click(f"a[href='{till}']")  # one tap, whatever page the cashier landed on
    page.wait_for_selector("form.till-form")
    # everything the till needs is on screen: no section to open first
    for field in ("code", "amount", "customer"):
        assert page.locator(f"form.till-form input[name={field}]").is_visible(), field

    page.fill("input[name=code]", "НЕТ-ТАКОГО-КОДА")
    page.fill("input[name=amount]", "1 000,50")
    page.click("form.till-form button[type=submit]")
    page.wait_for_selector(".verdict.bad, [role=alert]")
    assert assert_errors_russian(page, "unknown code") >= 1
    shot(page, f"83-till-unknown-ru-{size}")

    page.fill("input[name=code]", code.lower())
    page.fill("input[name=amount]", "1 000,50")
    page.fill("input[name=customer]", "+7 912 000-11-22")
    page.click("form.till-form button[type=submit]")
    page.wait_for_selector("article.verdict")
    assert_errors_russian(page, "verdict")
    assert page.locator("article.verdict[data-ok=yes]").count() == 1, page.inner_text("main")
    shot(page, f"84-till-verdict-ru-{size}")
    page.click("article.verdict button[type=submit]")
    page.wait_for_selector(".verdict.good")
    assert "Погашено" in page.inner_text(".verdict.good") or "✓" in page.inner_text(".verdict.good")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= SIZES[size]["width"]
    shot(page, f"85-till-redeemed-ru-{size}")
