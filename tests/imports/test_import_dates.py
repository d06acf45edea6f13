"""Dates in transaction files: Russian Excel styles, Excel serials, ambiguous files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.imports import service
from crosspromo.imports.service import ImportRejected
from crosspromo.sales.models import Transaction
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
