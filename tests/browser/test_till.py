"""The demo city's running campaign: its coupons print, and a cashier redeems one at the till."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.browser.conftest import Server, live_campaign, shot

pytestmark = pytest.mark.browser
CASHIER, PASSWORD = "till@demo.example", "till-password-2026"


def test_coupons_print_and_the_till_redeems_one(server: Server, browser: Any) -> None:
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    truth = Path(server.env["CROSSPROMO_VAR_DIR"]) / "demo-small-42" / "ground_truth.json"
    promotion = json.loads(truth.read_text())["promotion"]
    server.cli(
        "user",
        "create",
        "--email",
        CASHIER,
        "--password",
        PASSWORD,
        "--business",
        promotion["cafe"],
        "--role",
        "cashier",
    )
    campaign = live_campaign(server, promotion["bakery"])
    cafe = live_campaign(server, promotion["cafe"])

    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    page = owner.new_page()
    page.goto(server.url + "/signin")
    page.fill("input[name=email]", "owner@demo.example")
    page.fill("input[name=password]", "demo-city-2026")
    page.click("button[type=submit]")
    page.goto(f"{server.url}/b/{campaign['business_id']}/campaigns/{campaign['id']}")
    page.wait_for_selector("#offers article.offer")
    shot(page, "40-demo-campaign-offers")
    href = page.locator("a:has-text('Print coupons (A4)')").get_attribute("href")
    pdf = page.request.get(server.url + href)
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    printed = re.findall(r"BREAD-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", text)
    assert len(printed) >= 10, text[:500]
    owner.close()

    till = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = till.new_page()
    phone.goto(server.url + "/signin")
    phone.fill("input[name=email]", CASHIER)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.goto(f"{server.url}/b/{cafe['business_id']}/till")
    code = printed[0]
    # as a cashier types it: lower case, spaces instead of dashes
    phone.fill("input[name=code]", code.lower().replace("-", " "))
    phone.fill("input[name=amount]", "450")
    shot(phone, "41-till-typed")
    phone.click("button:has-text('Check')")
    phone.wait_for_selector("article.verdict[data-ok=yes]")
    assert "45.00" in phone.inner_text("article.verdict") or "45,00" in phone.inner_text(
        "article.verdict"
    )
    shot(phone, "42-till-verdict")
    phone.click("button:has-text('Confirm')")
    phone.wait_for_selector(".verdict.good >> text=Redeemed")
    shot(phone, "43-till-redeemed")
    phone.fill("input[name=code]", code)
    phone.fill("input[name=amount]", "450")
    phone.click("button:has-text('Check')")
    phone.wait_for_selector("article.verdict[data-ok=no]")
    assert "already used" in phone.inner_text("article.verdict")
    shot(phone, "44-till-used")
    phone.click("a[hreflang=ru]")  # from the page that answered the form
    phone.wait_for_selector("h1:has-text('Касса')")
    phone.fill("input[name=code]", "BREAD-2222-2222-2222")
    phone.fill("input[name=amount]", "450")
    phone.click("form.till-form button[type=submit]")
    phone.wait_for_selector(".verdict.bad")
    shot(phone, "45-till-mistyped-ru")
    till.close()
