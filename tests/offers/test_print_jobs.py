"""Coupon prints as background jobs: the API's lifecycle on both engines, the worker running them,
the process pool's chunks in order, a failed chunk, and a printed page's QR code read by zxing-cpp.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crosspromo.db import make_engine, make_sessionmaker, utcnow
from crosspromo.offers import print_jobs, print_pool
from crosspromo.offers.models import PrintJob, PrintStatus
from crosspromo.outbox import worker
from crosspromo.settings import Settings
from tests.conftest import sign_in
from tests.offers.conftest import make_offer
from tests.offers.print_renderers import short_chunks_fail
from tests.offers.test_distribution import _codes, _pdf_text
from tests.offers.test_printing import coupons


@pytest.fixture
def work(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """One round of `crosspromo worker` with print jobs registered, as its CLI registers them."""
    monkeypatch.setitem(worker.TASKS, print_jobs.KIND, print_jobs.run_message)

    def tick() -> int:
        engine = make_engine(settings.resolved_database_url())
        try:
            return worker.tick(make_sessionmaker(engine), settings)
        finally:
            engine.dispose()

    return tick


def test_print_job_lifecycle_over_the_api(
    client: TestClient, running: dict[str, Any], work: Any, db: Session
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 23)
    url = f"/api/v1/offers/{offer['id']}/print-jobs"
    asked = client.post(url, headers=p["bakery_manager"], json={"locale": "ru"})
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert job["status"] == "queued" and job["file_url"] is None
    assert asked.headers["location"] == job["status_url"] == f"{url}/{job['id']}"
    early = client.get(f"{job['status_url']}/coupons.pdf", headers=p["bakery_manager"])
    assert early.status_code == 409 and early.json()["type"].endswith("/print-not-ready")

    # A worker took it and died: once its lease is over, the next worker runs it again.
    left = update(PrintJob).where(PrintJob.id == uuid.UUID(job["id"]))
    db.execute(left.values(status=PrintStatus.running, started_at=utcnow() - timedelta(hours=1)))
    db.commit()
    work()
    # The honouring partner sees the job too: it prints for its own stand.
    done = client.get(job["status_url"], headers=p["cafe_owner"]).json()
    assert done["status"] == "done", done
    assert done["done"] == done["total"] == 23 and done["pdf_bytes"] > 0
    assert done["next_after"] is None and done["error"] == ""
    got = client.get(done["file_url"], headers=p["bakery_manager"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.headers["x-coupons"] == "23"
    pages, text = _pdf_text(got.content)
    assert pages == 3 and "Скидка 10" in text
    listed = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"])
    assert all(c["code"] in text for c in listed.json()["items"])
    assert work() == 0  # nothing left: the job ran once


def test_print_jobs_page_by_cursor_and_retry_with_a_key(
    client: TestClient, running: dict[str, Any], work: Any
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 12)
    url = f"/api/v1/offers/{offer['id']}/print-jobs"
    h = p["bakery_manager"] | {"Idempotency-Key": "print-1"}
    first = client.post(url, headers=h, json={"limit": 10, "layout": "card"})
    again = client.post(url, headers=h, json={"limit": 10, "layout": "card"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post(url, headers=h, json={"limit": 5})
    assert other.status_code == 422
    work()
    job = client.get(first.json()["status_url"], headers=p["bakery_manager"]).json()
    assert job["total"] == 10 and job["next_after"]
    rest = client.post(url, headers=p["bakery_manager"], json={"after": job["next_after"]})
    work()
    tail = client.get(rest.json()["status_url"], headers=p["bakery_manager"]).json()
    assert tail["status"] == "done" and tail["total"] == 2 and tail["next_after"] is None
    card = client.get(job["file_url"], headers=p["bakery_manager"])
    assert _pdf_text(card.content)[0] == 10  # one business card per page


def test_print_jobs_are_the_parties_only(
    client: TestClient, running: dict[str, Any], work: Any
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 1)
    url = f"/api/v1/offers/{offer['id']}/print-jobs"
    job = client.post(url, headers=p["bakery_manager"], json={}).json()
    for who in ("outsider_owner", "cafe_cashier"):
        assert client.post(url, headers=p[who], json={}).status_code == 404
        assert client.get(job["status_url"], headers=p[who]).status_code == 404
        assert client.get(f"{job['status_url']}/coupons.pdf", headers=p[who]).status_code == 404
    assert client.get(f"{url}/{offer['id']}", headers=p["bakery_manager"]).status_code == 404
    refused = client.post(url, headers=p["bakery_manager"], json={"limit": 10_001})
    assert refused.status_code == 422


def test_a_failed_chunk_fails_the_job_with_its_reason(
    client: TestClient, running: dict[str, Any], db: Session, settings: Settings
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 25)
    job = client.post(
        f"/api/v1/offers/{offer['id']}/print-jobs", headers=p["bakery_manager"], json={}
    ).json()
    engine = make_engine(settings.resolved_database_url())
    seen: list[tuple[int, int]] = []
    try:
        status = print_jobs.run(
            make_sessionmaker(engine),
            uuid.UUID(job["id"]),
            processes=1,
            size=10,
            renderer=short_chunks_fail,
            progress=lambda done, total: seen.append((done, total)),
        )
        again = print_jobs.run(make_sessionmaker(engine), uuid.UUID(job["id"]), processes=1)
    finally:
        engine.dispose()
    assert status is PrintStatus.failed and seen == [(10, 25), (20, 25)]
    assert again is None  # a finished job is not run twice (a repeated outbox message)
    failed = client.get(job["status_url"], headers=p["bakery_manager"]).json()
    assert failed["status"] == "failed" and failed["done"] == 20 and failed["total"] == 25
    assert "chunk 3 (coupons 21–25)" in failed["error"] and "out of toner" in failed["error"]
    file = client.get(f"{job['status_url']}/coupons.pdf", headers=p["bakery_manager"])
    assert file.status_code == 409
    stored = db.scalar(select(PrintJob).where(PrintJob.id == uuid.UUID(job["id"])))
    assert stored is not None and stored.pdf is None and stored.finished_at is not None
    # A periodic job of the worker deletes finished jobs a week old, their PDFs with them.
    assert print_jobs.purge(db, now=utcnow() + timedelta(days=6)) == 0
    assert print_jobs.purge(db, now=utcnow() + timedelta(days=8)) == 1


def test_the_pool_keeps_the_order_and_reports_progress() -> None:
    batch = coupons(25)
    seen: list[tuple[int, int]] = []
    body = print_pool.render(batch, processes=2, size=10, progress=lambda d, t: seen.append((d, t)))
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 3  # 10 + 10 + 5 coupons, A4 sheets of 10
    for number, page in enumerate(reader.pages):
        text = page.extract_text()
        assert all(c.code in text for c in batch[number * 10 : number * 10 + 10])
    assert sorted(seen) == seen and seen[-1] == (25, 25) and len(seen) == 3


def test_a_failed_chunk_in_the_pool_names_it() -> None:
    with pytest.raises(print_pool.ChunkFailed, match=r"chunk 3 \(coupons 21–25\).*toner"):
        print_pool.render(coupons(25), processes=2, size=10, renderer=short_chunks_fail)


def test_a_printed_page_scans_to_its_code() -> None:
    """Rendered to pixels as a printer would (PDFium, 200 dpi), each QR code reads back."""
    zxingcpp = pytest.importorskip("zxingcpp")
    pdfium = pytest.importorskip("pypdfium2")
    batch = coupons(10)
    body = print_pool.render(batch, processes=1)
    document = pdfium.PdfDocument(body)
    try:
        image = document[0].render(scale=200 / 72).to_pil().convert("L")
    finally:
        document.close()
    found = sorted(b.text for b in zxingcpp.read_barcodes(image))
    assert found == sorted(c.url for c in batch)


def test_the_campaign_page_prints_a_big_offer_in_the_background(
    client: TestClient, running: dict[str, Any], work: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crosspromo.campaigns import pages as campaign_pages

    monkeypatch.setattr(campaign_pages, "SMALL_PRINT", 10)  # "big" from 11 codes, to stay quick
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    _codes(client, p, offer, 11)
    csrf = sign_in(client, "b@example.com")  # the cafe's owner: the honouring side
    cafe = p["cafe"].id
    shown = client.get(f"/b/{cafe}/campaigns/{p['campaign_id']}")
    assert f'action="/b/{cafe}/offers/{offer["id"]}/print"' in shown.text
    asked = client.post(
        f"/b/{cafe}/offers/{offer['id']}/print",
        data={"csrf_token": csrf, "layout": "a4"},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    url = asked.headers["location"]
    waiting = client.get(url)
    assert waiting.status_code == 200 and 'hx-trigger="every 1s"' in waiting.text
    assert "<script" not in waiting.text.split("<main", 1)[-1]  # CSP: htmx attributes only
    work()
    ready = client.get(url, headers={"HX-Request": "true"})
    assert "hx-trigger" not in ready.text and f"{url}/coupons.pdf" in ready.text
    assert ready.text.lstrip().startswith('<section id="print-job"')  # the bare fragment
    got = client.get(f"{url}/coupons.pdf")
    assert got.status_code == 200 and _pdf_text(got.content)[0] == 2  # 11 coupons, A4 of 10
    assert client.get(f"/b/{p['outsider'].id}/offers/{offer['id']}/print/x").status_code == 404
