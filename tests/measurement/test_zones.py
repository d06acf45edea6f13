"""Zone, country and currency at creation; changing the zone of a business with date-only
receipts asks what to do with them."""

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
from crosspromo.imports import service as imports
from crosspromo.imports.service import ImportRejected
from crosspromo.sales.models import Transaction
from crosspromo.settings import Settings
from tests.conftest import make_owner


def test_businesses_file_sets_zone_and_country(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(
        "id,name,category,timezone,country,currency\n"
        "ny-shop,NY Shop,shop=bakery,America/New_York,us,USD\n"
    )
    imports.run(db, kind="businesses", path=path, secret_key="s")
    db.commit()
    shop = get_by_slug(db, "ny-shop")
    assert shop is not None
    assert (shop.timezone, shop.country, shop.currency) == ("America/New_York", "US", "USD")
    path.write_text("id,name,category,timezone\nbad,Bad,shop=bakery,Mars/Base\n")
    with pytest.raises(ImportRejected) as caught:
        imports.run(db, kind="businesses", path=path, secret_key="s")
    assert caught.value.summary.errors[0].column == "timezone"


def test_changing_the_zone_asks_about_date_only_receipts(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    _, business = make_owner(db, "o@example.com", "Shop", timezone="Europe/Moscow")
    (tmp_path / "t.csv").write_text("id,at,amount\nR1,20.11.2026,1\nR2,20.11.2026 10:15,1\n")
    imports.run(db, kind="transactions", path=tmp_path / "t.csv", secret_key="s", business="shop")
    token, _ = accounts.create_api_key(db, business_id=business.id, role=Role.owner)
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/businesses/{business.id}"
    asked = client.patch(url, json={"timezone": "Europe/Berlin"}, headers=auth)
    assert asked.status_code == 409, asked.text
    assert "date_only_receipts" in asked.text and "1 receipts" in asked.text
    moved = client.patch(
        url, json={"timezone": "Europe/Berlin", "date_only_receipts": "reinterpret"}, headers=auth
    )
    assert moved.status_code == 200, moved.text
    db.expire_all()
    at = {t.external_id: t.at for t in db.scalars(select(Transaction))}
    assert at["R1"] == datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # Berlin midnight, same date
    assert at["R2"] == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)  # a real time is not moved
    kept = client.patch(
        url, json={"timezone": "Asia/Tokyo", "date_only_receipts": "keep"}, headers=auth
    )
    assert kept.status_code == 200
    db.expire_all()
    assert db.scalar(select(Transaction.at).where(Transaction.external_id == "R1")) == at["R1"]


def test_user_create_with_zone_country_currency(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        args = ["user", "create", "--email", "k@example.com", "--password", "correct horse 1"]
        args += ["--new-business", "Kazan Cafe", "--category", "amenity=cafe"]
        args += ["--timezone", "Europe/Moscow", "--country", "RU", "--currency", "RUB"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        bad = CliRunner().invoke(
            cli,
            [*args[:4], "--email", "x@example.com", "--new-business", "X", "--timezone", "Nowhere"],
        )
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
    db.expire_all()
    cafe = get_by_slug(db, "kazan-cafe")
    assert cafe is not None and (cafe.timezone, cafe.country, cafe.currency) == (
        "Europe/Moscow",
        "RU",
        "RUB",
    )
