"""Printable plastic cards (CR80, A4 sheets with crop marks) and blank cards activated at a till.

The QR codes are read back from the rendered PDF pages with zxing-cpp, as a till's scanner
would read the printed card.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.loyalty import printing, service
from crosspromo.offers import codes
from tests.campaigns.conftest import key
from tests.conftest import sign_in
from tests.loyalty.conftest import assert_ledger_ok, build

MM = 72 / 25.4  # PDF points per millimetre
STREET = printing.Programme(
    "Our street", "RUB", 100, 5000, 14, 12, (("Bakery", 50), ("Cafe", 70), ("Florist", 50))
)


def page_mm(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (float(p.mediabox.width) / MM, float(p.mediabox.height) / MM)
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def scanned(pdf: bytes, page: int) -> list[str]:
    """The QR codes a scanner reads on the page rendered at 150 dpi."""
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    document = pdfium.PdfDocument(pdf)
    image = document[page].render(scale=150 / 72).to_pil()
    document.close()
    return [b.text for b in zxingcpp.read_barcodes(image)]


def text_at(pdf: bytes, page: int) -> list[tuple[str, float]]:
    """Each piece of text on the page with its x in millimetres from the left edge."""
    found: list[tuple[str, float]] = []

    def visit(text: str, cm: Any, tm: Any, *_: Any) -> None:
        if text.strip():
            found.append((text.strip(), (tm[4] * cm[0] + cm[4]) / MM))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize(
    ("locale", "heading", "blank_hint"),
    [
        ("en", "How the card works", "Activate the card"),
        ("ru", "Как работает карта", "Активируйте"),
    ],
)
def test_one_card_is_cr80_with_a_readable_qr_and_rules_in_its_language(
    locale: str, heading: str, blank_hint: str
) -> None:
    card = printing.PrintedCard("7KQ2-M9XP-4TRH", blank=True, locale=locale)
    pdf = printing.card_pdf(card, STREET)
    sizes = page_mm(pdf)
    assert len(sizes) == 2  # front, back
    for width, height in sizes:
        assert width == pytest.approx(85.60, abs=0.01) and height == pytest.approx(53.98, abs=0.01)
    assert scanned(pdf, 0) == ["7KQ2-M9XP-4TRH"]
    reader = PdfReader(io.BytesIO(pdf))
    front, back = (p.extract_text() for p in reader.pages)
    assert "Our street" in front and "7KQ2-M9XP-4TRH" in front
    assert all(name in front for name in ("Bakery", "Cafe", "Florist"))
    assert heading in back and blank_hint in back and "50" in back


def test_a4_sheet_holds_ten_cards_and_mirrors_the_backs() -> None:
    numbers = codes.generate(service.CARD_PATTERN, 12)
    cards = [printing.PrintedCard(n, blank=True) for n in numbers]
    pdf = printing.card_sheet(cards, STREET)
    sizes = page_mm(pdf)
    assert len(sizes) == 4  # 10 fronts, their backs, 2 fronts, their backs
    assert all(s == (pytest.approx(210, abs=0.01), pytest.approx(297, abs=0.01)) for s in sizes)
    assert sorted(scanned(pdf, 0)) == sorted(numbers[:10])
    assert sorted(scanned(pdf, 2)) == sorted(numbers[10:])
    assert scanned(pdf, 1) == []  # backs carry no code
    left = (210 - 2 * 85.60) / 2
    front_x = dict(text_at(pdf, 0))
    back_x = dict(text_at(pdf, 1))
    # The first card is in the left column in front and in the right one behind it.
    assert front_x[numbers[0]] < left + 85.60 < back_x[numbers[0]]
    assert back_x[numbers[1]] < left + 85.60 < front_x[numbers[1]]


def setup(db: Session) -> dict[str, Any]:
    s = build(db, pending_days=0)
    s["bakery_key"] = key(db, s["bakery"], Role.manager)
    s["cafe_key"] = key(db, s["cafe"], Role.cashier)
    db.commit()
    return s


def test_blank_cards_printed_then_activated_at_a_till(client: TestClient, db: Session) -> None:
    s = setup(db)
    path = f"/api/v1/loyalty/coalitions/{s['coalition'].id}/cards/sheet"
    body = {"business_id": str(s["bakery"].id), "count": 3, "locale": "ru"}
    made = client.post(
        path,
        params={"format": "json"},
        headers=s["bakery_key"] | {"Idempotency-Key": "p1"},
        json=body,
    )
    assert made.status_code == 201, made.text
    numbers = [c["card"] for c in made.json()["cards"]]
    assert len(set(numbers)) == 3 and all(c["blank"] for c in made.json()["cards"])
    pdf = client.post(path, headers=s["bakery_key"] | {"Idempotency-Key": "p1"}, json=body)
    assert pdf.headers["content-type"] == "application/pdf"  # the same cards, not 3 more
    assert sorted(scanned(pdf.content, 0)) == sorted(numbers)
    assert "Активируйте" in PdfReader(io.BytesIO(pdf.content)).pages[1].extract_text()
    listed = client.post(
        path,
        params={"format": "csv"},
        headers=s["bakery_key"] | {"Idempotency-Key": "p1"},
        json=body,
    )
    assert listed.text.splitlines()[1:] == [f"{n},{n},yes" for n in numbers]  # for a card printer
    earn = {
        "business_id": str(s["cafe"].id),
        "card": numbers[0],
        "order_minor": 100_000,
        "order_ref": "C-1",
    }
    refused = client.post("/api/v1/loyalty/earn", headers=s["cafe_key"], json=earn)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/card-not-activated"
    activation = {
        "coalition_id": str(s["coalition"].id),
        "business_id": str(s["cafe"].id),
        "card": numbers[0].replace("-", " ").lower(),
        "phone": "+7 912 000-00-01",
        "consent": True,
    }
    activated = client.post("/api/v1/loyalty/cards", headers=s["cafe_key"], json=activation)
    assert activated.status_code == 201, activated.text
    assert activated.json()["card"] == numbers[0] and activated.json()["link"].startswith(
        "/loyalty/c/"
    )
    again = client.post("/api/v1/loyalty/cards", headers=s["cafe_key"], json=activation)
    assert again.status_code == 409 and again.json()["type"] == "/problems/card-already-active"
    no_consent = activation | {"card": numbers[1], "consent": False, "phone": "+79120000002"}
    assert (
        client.post("/api/v1/loyalty/cards", headers=s["cafe_key"], json=no_consent).status_code
        == 422
    )
    earned = client.post("/api/v1/loyalty/earn", headers=s["cafe_key"], json=earn)
    assert earned.status_code == 201 and earned.json()["points"] == 50
    page = client.get(activated.json()["link"])
    assert numbers[0] in page.text
    own = client.get(activated.json()["link"] + "/card.pdf")
    assert own.status_code == 200 and scanned(own.content, 0) == [numbers[0]]
    # Printing given cards, and one card at its real size for a cashier.
    given = client.post(
        path,
        headers=s["bakery_key"],
        json={"business_id": str(s["bakery"].id), "cards": numbers[:2]},
    )
    assert given.status_code == 201 and sorted(scanned(given.content, 0)) == sorted(numbers[:2])
    one = client.get(
        f"/api/v1/loyalty/cards/{numbers[0]}/print",
        params={"business_id": str(s["cafe"].id), "lang": "en"},
        headers=s["cafe_key"],
    )
    assert one.status_code == 200 and page_mm(one.content)[0][0] == pytest.approx(85.60, abs=0.01)
    assert "Your balance" in PdfReader(io.BytesIO(one.content)).pages[1].extract_text()
    both = {"business_id": str(s["bakery"].id), "count": 2, "cards": numbers[:1]}
    assert client.post(path, headers=s["bakery_key"], json=both).status_code == 422
    cashier_only = client.post(
        path, headers=s["cafe_key"], json=body | {"business_id": str(s["cafe"].id)}
    )
    assert cashier_only.status_code == 403
    assert_ledger_ok(db, s["coalition"])


def test_till_activates_a_blank_card_and_dashboard_prints_cards(
    client: TestClient, db: Session
) -> None:
    s = build(db, pending_days=0)
    blank = service.blank_cards(db, coalition=s["coalition"], business=s["bakery"], count=1)[0]
    db.commit()
    number = service.display_number(blank.number)
    csrf = sign_in(client, "bakery@example.com")
    base = f"/b/{s['bakery'].id}/loyalty"
    shown = client.get(base, params={"card": number})
    assert 'id="loyalty-activate"' in shown.text
    form = {"csrf_token": csrf, "card": number, "email": "anna@example.com", "token": "a1"}
    refused = client.post(f"{base}/cards/activation", data=form)
    assert refused.status_code == 422 and 'id="loyalty-activate"' in refused.text
    assert 'value="anna@example.com"' in refused.text
    done = client.post(f"{base}/cards/activation", data=form | {"consent": "on", "token": "a2"})
    assert done.status_code == 200, done.text
    assert 'data-kind="activated"' in done.text and "/loyalty/c/" in done.text
    assert 'data-available="0"' in client.get(base, params={"card": number}).text
    dashboard = f"{base}/coalitions/{s['coalition'].id}"
    assert 'id="loyalty-print"' in client.get(dashboard).text
    sheet = client.post(
        f"{dashboard}/cards", data={"csrf_token": csrf, "count": "11", "token": "p1"}
    )
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    assert len(page_mm(sheet.content)) == 4 and len(scanned(sheet.content, 0)) == 10
    lookup = client.get(dashboard, params={"card": number})
    assert "data-print-card" in lookup.text
    support = client.get(f"{dashboard}/cards/{blank.number}.pdf", params={"lang": "ru"})
    assert support.status_code == 200 and scanned(support.content, 0) == [number]
    assert "Как работает карта" in PdfReader(io.BytesIO(support.content)).pages[1].extract_text()
