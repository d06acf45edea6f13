"""The demo city as a new owner sees it: a populated dashboard, customers, and partner cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(server: Server) -> Server:
    """The demo city, set up once for the tests of this module."""
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    return server


def test_demo_owner_sees_sales_customers_and_partners(demo: Server, phone_page: Any) -> None:
    server = demo
    page = phone_page
    page.goto(server.url + "/signin")
    page.fill("input[name=email]", "owner@demo.example")
    page.fill("input[name=password]", "demo-city-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Sales by week")
    page.wait_for_selector("#sales-chart canvas")
    assert page.locator("#sales-chart canvas").evaluate("c => c.width > 100 && c.height > 100")
    assert page.locator("text=Top products, last 90 days").count() == 1
    shot(page, "10-demo-dashboard-en")

    page.click("a[href$='/customers']")
    page.wait_for_selector("table tbody tr")
    assert page.locator("table tbody tr").count() == 50
    shot(page, "11-demo-customers")

    page.go_back()
    page.click("a[hreflang=ru]")
    page.click("a[href$='/partners']")
    page.wait_for_selector("article.suggestion")
    assert page.locator("article.suggestion").count() == 10
    first = page.locator("article.suggestion").first
    assert first.locator("progress").count() == 8
    assert "Дополняемость" in first.inner_text()
    shot(page, "12-find-partners-ru")

    truth = Path(server.env["CROSSPROMO_VAR_DIR"]) / "demo-small-42" / "ground_truth.json"
    rival = json.loads(truth.read_text())["promotion"]["cafe"]
    page.fill("input[name=other]", rival)
    page.press("input[name=other]", "Enter")
    page.wait_for_selector("#why-not")
    assert page.locator("#why-not li").count() >= 1, page.inner_text("#why-not")
    shot(page, "13-why-not-ru")


def test_demo_campaign_measurement_charts(demo: Server, browser: Any) -> None:
    """The live campaign's measurement section draws its charts; so does the dashboard."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    blocked: list[str] = []  # what the Content-Security-Policy refused
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(demo.url + "/signin")
    page.fill("input[name=email]", "owner@demo.example")
    page.fill("input[name=password]", "demo-city-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("#sales-chart canvas")
    assert "Last receipt" in page.inner_text(".freshness")
    shot(page, "40-dashboard-chart-en")

    truth = Path(demo.env["CROSSPROMO_VAR_DIR"]) / "demo-small-42" / "ground_truth.json"
    bakery = json.loads(truth.read_text())["promotion"]["bakery"]
    out = demo.cli("campaigns", "list", "--business", bakery, "--json")
    listed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    live = next(c for c in listed if c["title"] == "Coffee and croissant weeks")
    page.goto(f"{demo.url}/b/{live['business_id']}/campaigns/{live['id']}")
    page.wait_for_selector("#measurement-charts h2")
    page.wait_for_selector("[id^=chart-funnel] canvas")
    assert page.locator("#measurement-charts canvas").count() >= 2
    funnel = page.locator("template[data-chart^=chart-funnel]").evaluate(
        "t => t.content.textContent"
    )
    assert "Codes issued" in funnel and "Came back" in funnel
    page.select_option("#measurement-charts select[name=model]", "shapley")
    page.wait_for_selector("#measurement-charts option[value=shapley][selected]", state="attached")
    page.wait_for_selector("[id^=chart-funnel] canvas")
    shot(page, "41-campaign-measurement-en")

    page.click("a[hreflang=ru]")
    page.wait_for_selector("[id^=chart-funnel] canvas")
    assert "Воронка" in page.inner_text("#measurement-charts")
    shot(page, "42-campaign-measurement-ru")

    past = next(c for c in listed if c["title"] == "Bread for coffee: the June test")
    page.goto(f"{demo.url}/b/{past['business_id']}/campaigns/{past['id']}")
    page.wait_for_selector("[id^=chart-attribution] canvas")
    page.wait_for_selector("[id^=chart-weekly] canvas")
    shot(page, "43-past-promotion-attribution-ru")
    credited = json.loads(demo.cli("attribution", past["id"], "--model", "shapley", "--json"))
    assert credited["converting_paths"] > 0
    assert (
        abs(sum(c["conversions"] for c in credited["credits"]) - credited["converting_paths"])
        < 1e-4
    )
    assert not errors, errors
    context.close()
    assert blocked == [], blocked  # the charts satisfy the Content-Security-Policy
