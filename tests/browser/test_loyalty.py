"""The demo coalition: a customer signs up on her phone, earns at one shop, spends at another."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import Server, shot

pytestmark = pytest.mark.browser


def test_customer_earns_at_one_member_and_spends_at_another(server: Server, browser: Any) -> None:
    server.cli("demo", "setup", "--seed", "42", "--size", "small")
    coalition = json.loads(server.cli("loyalty", "list", "--json"))[0]
    assert len(coalition["members"]) == 3
    first, second = coalition["business_ids"][:2]

    customer = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = customer.new_page()
    phone.goto(f"{server.url}/loyalty/join/{coalition['id']}")
    phone.fill("input[name=phone]", "+7 912 555-44-33")
    phone.check("input[name=consent]")
    shot(phone, "60-loyalty-join")
    phone.click("button:has-text('Get my card')")
    phone.wait_for_selector("[data-card]")
    card = phone.inner_text("[data-card]").strip()
    assert phone.inner_text("[data-available]") == "0"
    shot(phone, "61-loyalty-card")

    owner = browser.new_context(viewport={"width": 390, "height": 844})
    till = owner.new_page()
    till.goto(server.url + "/signin")
    till.fill("input[name=email]", "owner@demo.example")
    till.fill("input[name=password]", "demo-city-2026")
    till.click("button[type=submit]")
    till.goto(f"{server.url}/b/{first}/till")
    till.wait_for_selector(".loyalty-panel")  # loaded into the till by htmx
    till.fill(".loyalty-panel input[name=card]", card.lower().replace("-", " "))
    till.click(".loyalty-panel button")
    till.wait_for_selector("article[data-available]")
    till.fill("#loyalty-earn input[name=amount]", "2000")
    till.click("#loyalty-earn button")
    till.wait_for_selector(".verdict.good[data-kind=earn]")
    earned = int(till.inner_text("[data-balance]"))
    assert earned > 0
    shot(till, "62-loyalty-earned")

    till.goto(f"{server.url}/b/{second}/loyalty?card={card}")
    till.fill("#loyalty-spend input[name=amount]", "1000")
    till.fill("#loyalty-spend input[name=points]", "50")
    till.click("#loyalty-spend button")
    till.wait_for_selector(".verdict.good[data-kind=spend]")
    assert int(till.inner_text("[data-balance]")) == earned - 50
    shot(till, "63-loyalty-spent")

    phone.reload()
    assert phone.inner_text("[data-available]") == str(earned - 50)
    till.goto(f"{server.url}/b/{first}/loyalty/coalitions/{coalition['id']}?card={card}")
    till.wait_for_selector("#owes")
    shot(till, "64-loyalty-dashboard")
    customer.close()
    owner.close()
    assert "ok" in server.cli("loyalty", "check", coalition["id"])
