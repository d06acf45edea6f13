"""Defect 9 (imports): decompressed size and rows are capped; page uploads use a bounded pool."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.customers.models import Customer
from crosspromo.imports import jobs, service
from crosspromo.imports.service import ImportRejected
from tests.conftest import make_owner, sign_in

SECRET = "test-secret"


def _customers(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(Customer)) or 0)


def _rejected(db: Session, path: Path, business: str, **limits: int) -> str:
    with pytest.raises(ImportRejected) as caught:
        service.run(db, kind="customers", path=path, secret_key=SECRET, business=business, **limits)
    db.rollback()
    return " ".join(e.reason for e in caught.value.summary.errors)


def test_gzip_bomb_stops_at_the_decompressed_limit(db: Session, tmp_path: Path) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    line = b"C1,anna@example.com\n"
    bomb = tmp_path / "customers.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=6) as out:  # 16 MiB of rows in a small file
        out.write(b"customer,email\n")
        block = line * 50_000
        for _ in range((16 << 20) // len(block)):
            out.write(block)
    assert bomb.stat().st_size < 1 << 17
    message = _rejected(db, bomb, bakery.slug, max_bytes=1 << 20)
    assert "1,048,576 bytes once decompressed" in message
    assert "CROSSPROMO_IMPORT_MAX_BYTES" in message
    assert _customers(db) == 0


def test_rows_beyond_the_limit_refuse_the_whole_file(db: Session, tmp_path: Path) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    path = tmp_path / "c.csv"
    path.write_text("customer,email\n" + "".join(f"C{i},p{i}@example.com\n" for i in range(30)))
    message = _rejected(db, path, bakery.slug, max_rows=10)
    assert "more than 10 rows" in message and "CROSSPROMO_IMPORT_MAX_ROWS" in message
    assert _customers(db) == 0  # nothing half-applied
    summary = service.run(
        db, kind="customers", path=path, secret_key=SECRET, business=bakery.slug, max_rows=30
    )
    assert summary.inserted == 30


def test_xlsx_limits(db: Session, tmp_path: Path) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["customer", "email"])
    for i in range(30):
        sheet.append([f"C{i}", f"p{i}@example.com"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    assert "once decompressed" in _rejected(db, path, bakery.slug, max_bytes=2048)
    assert "more than 10 rows" in _rejected(db, path, bakery.slug, max_rows=10)
    assert _customers(db) == 0


def test_pool_holds_a_fixed_number_of_places() -> None:
    pool = jobs.Pool(workers=1, queue=1)
    gate = threading.Event()
    assert pool.reserve() and pool.reserve()
    assert not pool.reserve()  # one running, one waiting: the third is refused
    first = pool.submit(gate.wait)
    second = pool.submit(lambda: None)
    assert not pool.reserve()
    gate.set()
    first.result(timeout=30)
    second.result(timeout=30)
    assert pool.reserve() and pool.reserve()
    pool.release()
    pool.release()


def test_upload_page_refuses_politely_when_the_pool_is_full(
    app: Any, client: TestClient, db: Session
) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    csrf = sign_in(client, "a@example.com")
    app.state.settings.import_workers, app.state.settings.import_queue = 1, 0
    full = jobs.pool(1, 0)
    assert full.reserve()
    try:
        response = client.post(
            f"/b/{bakery.id}/imports",
            data={"csrf_token": csrf, "kind": "customers"},
            files={"file": ("c.csv", b"customer,email\nC1,a@example.com\n", "text/csv")},
            follow_redirects=False,
        )
    finally:
        full.release()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert "Other imports are running" in response.text


def test_api_import_names_the_row_limit(app: Any, client: TestClient, db: Session) -> None:
    from crosspromo.accounts import service as accounts
    from crosspromo.accounts.models import Role

    _, bakery = make_owner(db, "a@example.com", "Bakery")
    token, _ = accounts.create_api_key(db, business_id=bakery.id, role=Role.manager)
    db.commit()
    app.state.settings.import_max_rows = 2
    body = "customer,email\n" + "".join(f"C{i},p{i}@example.com\n" for i in range(5))
    response = client.post(
        "/api/v1/imports/customers",
        headers={"Authorization": f"Bearer {token}"},
        data={"business": bakery.slug},
        files={"file": ("c.csv", body.encode(), "text/csv")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/import-rejected"
    assert "more than 2 rows" in response.text
    db.expire_all()
    assert _customers(db) == 0
