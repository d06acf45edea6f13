"""The Today panel says what money is owed each way this month, from the statements."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.offers import statements
from crosspromo.web import i18n
from tests.conftest import sign_in
from tests.offers.partners import agree
from tests.offers.test_referrals import BROWSER, PER_CLICK, _link, _take


def test_money_owed_this_month_links_to_the_statement(client: TestClient, db: Session) -> None:
    p = agree(client, db, **PER_CLICK)
    _, token = _link(client, p)
    assert _take(client, token, BROWSER).status_code == 303  # one paid click: 5.00 RUB
    bakery, cafe = p["bakery"], p["cafe"]
    today = clock.local_today(bakery)
    (balance,) = statements.owed(db, bakery, today.replace(day=1), today)
    (total,) = statements.totals(db, bakery, cafe, today.replace(day=1), today)
    assert balance.partner_id == cafe.id and balance.total == total  # the statement's sums
    assert total.payable + total.receivable == 500
    sign_in(client, "a@example.com")
    panel = client.get(f"/b/{bakery.id}/today").text
    assert f"/b/{bakery.id}/statements?partner={cafe.slug}" in panel
    owed = i18n.money(500, "RUB")
    assert (f"you owe {owed}" if total.payable else f"owes you {owed}") in panel
