"""Handing out codes on both engines: coupon PDFs, and e-mail through the outbox to real SMTP."""

from __future__ import annotations

import email
import io
import multiprocessing as mp
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pypdf import PdfReader
from slugify import slugify
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crosspromo.db import make_engine, make_sessionmaker, utcnow
from crosspromo.imports import service as imports
from crosspromo.offers.models import Code
from crosspromo.outbox import worker
from crosspromo.outbox.models import OutboxMessage, Status
from crosspromo.settings import Settings
from tests.offers.conftest import make_offer


def _codes(client: TestClient, p: dict[str, Any], offer: dict[str, Any], count: int) -> None:
    made = client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "unique", "count": count},
    )
    assert made.status_code == 201, made.text


def _pdf_text(body: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(body))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())  # lines wrap anywhere


def test_coupon_sheets_a4_and_cards_page_by_cursor(
    client: TestClient, running: dict[str, Any]
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"], min_order_minor=50000, per_customer_limit=1)
    _codes(client, p, offer, 23)
    url = f"/api/v1/offers/{offer['id']}/coupons.pdf"

    a4 = client.get(url, headers=p["bakery_manager"])
    assert a4.status_code == 200, a4.text
    assert a4.headers["content-type"] == "application/pdf" and "x-next-after" not in a4.headers
    pages, text = _pdf_text(a4.content)
    assert pages == 3 and a4.headers["x-coupons"] == "23"
    expected = slugify(offer["title"]) + "-coupons.pdf"  # the offer's name, not its id
    assert a4.headers["content-disposition"] == f'attachment; filename="{expected}"'
    assert "10% off" in text and "Once per customer." in text and "Cafe" in text
    listed = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"])
    codes = [c["code"] for c in listed.json()["items"]]
    assert all(code in text for code in codes)

    cards = client.get(url, params={"layout": "card"}, headers=p["cafe_owner"])
    assert cards.status_code == 200 and _pdf_text(cards.content)[0] == 23

    first = client.get(url, params={"limit": 10}, headers=p["bakery_manager"])
    cursor = first.headers["x-next-after"]
    assert _pdf_text(first.content)[0] == 1 and cursor == codes[9].replace("-", "")
    rest = client.get(url, params={"after": cursor}, headers=p["bakery_manager"])
    assert rest.headers["x-coupons"] == "13" and "x-next-after" not in rest.headers
    assert codes[10] in _pdf_text(rest.content)[1] and codes[9] not in _pdf_text(rest.content)[1]


def test_russian_benefit_and_conditions(client: TestClient, running: dict[str, Any]) -> None:
    p = running
    offer = make_offer(
        client,
        p,
        p["campaign_id"],
        benefit="fixed",
        percent=None,
        amount_minor=50000,
        new_customers_only=True,
        days=[0, 1, 2, 3, 4],
        hour_from=10,
        hour_until=16,
    )
    _codes(client, p, offer, 2)
    got = client.get(
        f"/api/v1/offers/{offer['id']}/coupons.pdf",
        params={"locale": "ru"},
        headers=p["bakery_manager"],
    )
    assert got.status_code == 200, got.text
    _, text = _pdf_text(got.content)
    for words in ("Скидка 500,00", "Только для новых", "Действует до", "Где: Cafe"):
        assert words in text, words
    gift = make_offer(
        client, p, p["campaign_id"], benefit="gift", percent=None, item="круассан к кофе"
    )
    _codes(client, p, gift, 1)
    got = client.get(
        f"/api/v1/offers/{gift['id']}/coupons.pdf",
        params={"locale": "ru", "layout": "card"},
        headers=p["bakery_manager"],
    )
    assert "Подарок: круассан к кофе" in _pdf_text(got.content)[1]


def test_more_than_two_hundred_coupons_at_once_go_to_a_print_job(
    client: TestClient, running: dict[str, Any]
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    url = f"/api/v1/offers/{offer['id']}/coupons.pdf"
    asked = client.get(url, params={"limit": 201}, headers=p["bakery_manager"])
    assert asked.status_code == 422 and "after" in asked.json()["detail"]
    assert asked.json()["errors"][0]["field"] == "limit"
    assert f"/api/v1/offers/{offer['id']}/print-jobs" in asked.json()["detail"]
    _codes(client, p, offer, 201)
    everything = client.get(url, headers=p["bakery_manager"])
    assert everything.status_code == 422
    detail = everything.json()["detail"]
    assert "more than 200" in detail and "after" in detail and "print-jobs" in detail
    first = client.get(url, params={"limit": 200}, headers=p["bakery_manager"])
    assert first.status_code == 200 and first.headers["x-coupons"] == "200"


def test_tenancy(client: TestClient, running: dict[str, Any]) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 1)
    pdf = f"/api/v1/offers/{offer['id']}/coupons.pdf"
    emails = f"/api/v1/offers/{offer['id']}/emails"
    for who in ("outsider_owner", "cafe_cashier"):
        assert client.get(pdf, headers=p[who]).status_code == 404
        assert client.post(emails, headers=p[who]).status_code == 404
    # The honouring partner prints for its stand, but only the issuer writes to its customers.
    assert client.get(pdf, headers=p["cafe_owner"]).status_code == 200
    assert client.post(emails, headers=p["cafe_owner"]).status_code == 403
    assert client.post(emails, headers=p["bakery_manager"]).status_code == 200
    assert client.get(pdf, params={"layout": "poster"}, headers=p["cafe_owner"]).status_code == 422


# --- e-mail -------------------------------------------------------------------------------

CUSTOMERS = [
    # customer, email, phone, name, consent
    ("C1", "anna@example.com", "", "Anna", "yes"),
    ("C2", "boris@example.com", "", "", "yes"),
    ("C3", "", "+79161234567", "Vera", "yes"),  # consented, but no e-mail
    ("C4", "gleb@example.com", "", "Gleb", "no"),
    ("C5", "dina@example.com", "", "Dina", "yes"),
]


def _customers(db: Session, tmp_path: Path, p: dict[str, Any]) -> None:
    path = tmp_path / "customers.csv"
    lines = ["business,customer,email,phone,name,marketing_consent"]
    lines += [f"{p['bakery'].slug},{','.join(row)}" for row in CUSTOMERS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imports.run(db, kind="customers", path=path, secret_key="test-secret")
    db.commit()


def _outbox(db: Session) -> list[OutboxMessage]:
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")))


def _quiet_outbox(db: Session) -> None:
    """Drop what setting up the campaign queued (notices to the partners' people)."""
    db.execute(delete(OutboxMessage))
    db.commit()


def _no_holdout(client: TestClient, p: dict[str, Any]) -> None:
    """These tests count e-mails to every consenting customer: nobody is held out."""
    done = client.put(
        f"/api/v1/campaigns/{p['campaign_id']}/audience",
        headers=p["bakery_manager"],
        json={"business_id": str(p["bakery"].id), "holdout_bp": 0},
    )
    assert done.status_code == 200, done.text


def _mailing(
    client: TestClient, db: Session, tmp_path: Path, p: dict[str, Any], codes: int = 3
) -> dict[str, Any]:
    _quiet_outbox(db)
    _no_holdout(client, p)
    _customers(db, tmp_path, p)
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, codes)
    return offer


def test_emails_once_per_consenting_customer(
    client: TestClient, db: Session, tmp_path: Path, running: dict[str, Any]
) -> None:
    p = running
    offer = _mailing(client, db, tmp_path, p, codes=2)
    url = f"/api/v1/offers/{offer['id']}/emails"

    first = client.post(url, headers=p["bakery_manager"])
    assert first.status_code == 200, first.text
    assert first.json() == {
        "sent": 2,
        "already_sent": 0,
        "skipped_no_consent": 1,
        "skipped_no_email": 1,
        "skipped_no_code": 1,
        "held_out": 0,
    }
    messages = _outbox(db)
    assert len(messages) == 2
    assert {m.payload["to"] for m in messages} <= {
        "anna@example.com",
        "boris@example.com",
        "dina@example.com",
    }
    labelled = list(db.scalars(select(Code).where(Code.label != "")))
    assert len(labelled) == 2 and all(c.label.startswith("sent to customer ") for c in labelled)
    for code in labelled:  # each code in exactly one e-mail
        assert sum(code.code[:4] in m.payload["text"] for m in messages) == 1

    again = client.post(url, headers=p["bakery_manager"]).json()
    assert again["sent"] == 0 and again["already_sent"] == 2 and again["skipped_no_code"] == 1
    assert len(_outbox(db)) == 2

    _codes(client, p, offer, 5)  # more codes: only the customer still waiting gets one
    third = client.post(url, params={"locale": "ru"}, headers=p["bakery_manager"]).json()
    assert third["sent"] == 1 and third["already_sent"] == 2 and third["skipped_no_code"] == 0
    messages = _outbox(db)
    assert len(messages) == 3 and len({m.payload["to"] for m in messages}) == 3
    assert any("Ваш код" in m.payload["text"] for m in messages)
    # Coupons printed afterwards leave out the codes already e-mailed.
    sheet = client.get(f"/api/v1/offers/{offer['id']}/coupons.pdf", headers=p["bakery_manager"])
    assert sheet.headers["x-coupons"] == "4"


class _Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _settings(database_url: str, port: int) -> Settings:
    return Settings(
        database_url=database_url, secret_key="test-secret", smtp_host="127.0.0.1", smtp_port=port
    )


def _tick(database_url: str, port: int) -> int:
    engine = make_engine(database_url)
    try:
        return worker.tick(make_sessionmaker(engine), _settings(database_url, port))
    finally:
        engine.dispose()


def test_emails_arrive_exactly_once_over_smtp(
    client: TestClient,
    db: Session,
    tmp_path: Path,
    database_url: str,
    running: dict[str, Any],
    smtp: tuple[_Inbox, int],
) -> None:
    p = running
    inbox, port = smtp
    offer = _mailing(client, db, tmp_path, p)
    client.post(f"/api/v1/offers/{offer['id']}/emails", headers=p["bakery_manager"])
    assert _tick(database_url, port) == 3
    assert _tick(database_url, port) == 0
    client.post(f"/api/v1/offers/{offer['id']}/emails", headers=p["bakery_manager"])
    assert _tick(database_url, port) == 0
    ids = inbox.ids()
    assert len(ids) == 3 and set(ids.values()) == {1}
    to = sorted(str(m["To"]) for m in inbox.messages)
    assert to == ["anna@example.com", "boris@example.com", "dina@example.com"]
    assert all(m.status is Status.sent for m in _outbox(db))


def _tick_in_process(database_url: str, port: int, barrier: Any, out: Any) -> None:
    barrier.wait()
    total = 0
    for _ in range(3):  # a few rounds, as `crosspromo worker` would run them
        total += _tick(database_url, port)
    out.put(total)


@pytest.mark.slow
def test_two_workers_deliver_each_message_once(
    client: TestClient,
    db: Session,
    tmp_path: Path,
    database_url: str,
    running: dict[str, Any],
    smtp: tuple[_Inbox, int],
) -> None:
    p = running
    inbox, port = smtp
    # Many customers so that both workers are busy at the same time.
    path = tmp_path / "many.csv"
    rows = [f"{p['bakery'].slug},M{i},m{i}@example.com,yes" for i in range(60)]
    path.write_text("business,customer,email,marketing_consent\n" + "\n".join(rows) + "\n")
    imports.run(db, kind="customers", path=path, secret_key="test-secret")
    db.commit()
    _quiet_outbox(db)
    _no_holdout(client, p)
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 60)
    sent = client.post(f"/api/v1/offers/{offer['id']}/emails", headers=p["bakery_manager"])
    assert sent.json()["sent"] == 60

    context = mp.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_tick_in_process, args=(database_url, port, barrier, out))
        for _ in range(2)
    ]
    for process in workers:
        process.start()
    totals = [out.get(timeout=120) for _ in workers]
    for process in workers:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert sum(totals) == 60
    ids = inbox.ids()
    assert len(ids) == 60 and set(ids.values()) == {1}
    assert all(m.status is Status.sent and m.attempts == 1 for m in _outbox(db))


def test_smtp_down_then_up_retries(
    client: TestClient,
    db: Session,
    tmp_path: Path,
    database_url: str,
    running: dict[str, Any],
) -> None:
    p = running
    offer = _mailing(client, db, tmp_path, p, codes=1)
    client.post(f"/api/v1/offers/{offer['id']}/emails", headers=p["bakery_manager"])
    port = _free_port()  # nothing listens there yet
    before = utcnow()
    assert _tick(database_url, port) == 1
    (message,) = _outbox(db)
    assert message.status is Status.pending and message.attempts == 1
    assert message.next_attempt_at > before + timedelta(seconds=10) and message.last_error

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert _tick(database_url, port) == 0  # not due yet
        db.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.commit()
        assert _tick(database_url, port) == 1
    finally:
        controller.stop()
    (message,) = _outbox(db)
    assert message.status is Status.sent and message.attempts == 2
    assert len(inbox.ids()) == 1


def test_cli_prints_coupons_and_exports_codes(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    running: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from crosspromo.cli import app as cli
    from crosspromo.settings import get_settings

    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 12)
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CROSSPROMO_PUBLIC_URL", "https://promo.example")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        pdf = tmp_path / "coupons.pdf"
        printed = runner.invoke(
            cli,
            ["offers", "print", offer["id"], "--business", p["cafe"].slug, "--layout", "card"]
            + ["--locale", "ru", "--limit", "5", "--out", str(pdf)],
        )
        assert printed.exit_code == 0, printed.output
        assert "--after" in printed.output and _pdf_text(pdf.read_bytes())[0] == 5
        # A print job run right here, with a progress bar (tests/offers/test_print_jobs.py)
        assert "Printing coupons" in printed.output and "5/5" in printed.output
        exported = tmp_path / "codes.csv"
        done = runner.invoke(
            cli,
            ["offers", "codes", offer["id"], "--business", p["bakery"].slug, "--csv"]
            + ["-o", str(exported)],
        )
        assert done.exit_code == 0, done.output
        rows = exported.read_text().splitlines()
        assert rows[0] == "code,kind,uses,max_uses,label,url" and len(rows) == 13
        assert ",unique,0,1,," in rows[1] and "https://promo.example/r/" in rows[1]
        other = runner.invoke(
            cli, ["offers", "codes", offer["id"], "--business", p["outsider"].slug, "--csv"]
        )
        assert other.exit_code == 1 and "No such" in other.output
    finally:
        get_settings.cache_clear()
