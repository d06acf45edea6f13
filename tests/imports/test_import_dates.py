"""Dates in transaction files: Russian Excel styles, Excel serials, ambiguous files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.businesses.service import get_by_slug
from crosspromo.cli import app as cli
from crosspromo.imports import service
from crosspromo.imports.service import ImportRejected
from crosspromo.sales.models import Transaction
from crosspromo.settings import Settings
from tests.conftest import make_owner


def _load(db: Session, tmp_path: Path, rows: str, **kw: object) -> dict[str, datetime]:
    path = tmp_path / "t.csv"
    path.write_text("id,at,amount\n" + rows)
    service.run(db, kind="transactions", path=path, secret_key="s", business="shop", **kw)  # type: ignore[arg-type]
    db.commit()
    return {t.external_id: t.at for t in db.scalars(select(Transaction))}


@pytest.fixture
def shop(db: Session) -> Session:
    _, business = make_owner(db, "o@example.com", "Shop", timezone="Europe/Moscow")
    business.slug = "shop"
    db.commit()
    return db


def test_russian_excel_dates_and_serials(shop: Session, tmp_path: Path) -> None:
    found = _load(
        shop,
        tmp_path,
        'R1,20.11.2026,"350,50"\nR2,20.11.2026 10:15,1\n'
        "R3,46346.4375,1\nR4,2026-11-20T10:15:00Z,1\n",
    )
    assert found["R1"] == datetime(2026, 11, 19, 21, 0, tzinfo=UTC)  # local midnight, UTC+3
    assert found["R2"] == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert found["R3"] == datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert found["R4"] == datetime(2026, 11, 20, 10, 15, tzinfo=UTC)


def test_ambiguous_file_is_rejected_unless_told(shop: Session, tmp_path: Path) -> None:
    rows = "R1,01/02/2026,1\nR2,03/04/2026,1\n"
    with pytest.raises(ImportRejected) as caught:
        _load(shop, tmp_path, rows)
    assert "line 2, column at" in str(caught.value.summary.errors[0])
    shop.rollback()
    found = _load(shop, tmp_path, rows, date_format="MM/DD/YYYY")
    assert found["R1"] == datetime(2026, 1, 1, 21, 0, tzinfo=UTC)  # 2 January, Moscow midnight


def test_month_first_file_asks_for_the_format(shop: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        _load(shop, tmp_path, "R1,01/02/2026,1\nR2,04/25/2026,1\n")
    assert caught.value.summary.errors[0].line == 3


def test_date_format_through_the_api_and_the_cli(
    client: TestClient,
    shop: Session,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    business = get_by_slug(shop, "shop")
    assert business is not None
    token, _ = accounts.create_api_key(shop, business_id=business.id, role=Role.manager)
    shop.commit()
    auth = {"Authorization": f"Bearer {token}"}
    body = b"id,at,amount\nR1,01/02/2026,1\n"
    files = {"file": ("t.csv", body)}
    form = {"business": "shop"}
    refused = client.post("/api/v1/imports/transactions", files=files, data=form, headers=auth)
    assert refused.status_code == 422 and "date-format" in refused.text
    done = client.post(
        "/api/v1/imports/transactions",
        files=files,
        data=form | {"date_format": "DD/MM/YYYY", "dry_run": "true"},
        headers=auth,
    )
    assert done.status_code == 200, done.text
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        path = tmp_path / "t.csv"
        path.write_bytes(body)
        args = ["import", "transactions", str(path), "--business", "shop"]
        assert CliRunner().invoke(cli, args).exit_code == 1
        ok = CliRunner().invoke(cli, [*args, "--date-format", "MM/DD/YYYY", "--json"])
        assert ok.exit_code == 0, ok.output
    finally:
        get_settings.cache_clear()
    shop.expire_all()
    assert shop.scalar(select(Transaction.at)) == datetime(2026, 1, 1, 21, 0, tzinfo=UTC)
