"""The KPI API, the `crosspromo kpi` command, and indicators outside sales."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.cli import app as cli
from crosspromo.imports import service as imports
from crosspromo.settings import Settings
from tests.conftest import make_owner

ROWS = (
    "id,customer,at,amount\n"
    "R1,C1,05.01.2026,100\n"  # local midnight: Monday of the second week
    "R2,C1,06.01.2026 10:00,200\n"
    "R3,C2,2026-01-04T23:59:59,50\n"  # Sunday: the first week
    "R4,,2026-01-12 09:00,70\n"
)


@pytest.fixture
def shop(db: Session, tmp_path: Path) -> dict[str, Any]:
    user, business = make_owner(db, "o@example.com", "Shop", timezone="Europe/Moscow")
    (tmp_path / "c.csv").write_text("customer,email\nC1,c1@example.com\nC2,c2@example.com\n")
    (tmp_path / "t.csv").write_text(ROWS)
    for kind in ("customers", "transactions"):
        imports.run(
            db, kind=kind, path=tmp_path / f"{kind[0]}.csv", secret_key="s", business="shop"
        )
    token, _ = accounts.create_api_key(db, business_id=business.id, role=Role.manager)
    db.commit()
    return {"business": business, "auth": {"Authorization": f"Bearer {token}"}}


def test_kpis_by_week_over_the_api(client: TestClient, shop: dict[str, Any]) -> None:
    url = f"/api/v1/businesses/{shop['business'].id}/kpis"
    found = client.get(
        url, params={"from": "2025-12-29", "to": "2026-01-18", "by": "week"}, headers=shop["auth"]
    )
    assert found.status_code == 200, found.text
    weeks = found.json()
    assert [w["start"] for w in weeks] == ["2025-12-29", "2026-01-05", "2026-01-12"]
    assert [w["receipts"] for w in weeks] == [1, 2, 1]
    assert weeks[1]["customers"] == 1 and weeks[1]["new_customers"] == 1
    assert weeks[1]["repeat_share"] == 1.0 and weeks[1]["avg_check_minor"] == 15000
    assert (
        weeks[1]["previous"]["receipts"] == 1 and weeks[1]["change"]["receipts"]["previous"] == 1.0
    )
    assert weeks[0]["partial"] and weeks[2]["partial"]  # data begins and ends inside them
    assert weeks[0]["currency"] == "RUB"
    bad = client.get(url, params={"by": "fortnight"}, headers=shop["auth"])
    assert bad.status_code == 422
    assert (
        client.get(
            url, params={"from": "2026-02-01", "to": "2026-01-01"}, headers=shop["auth"]
        ).status_code
        == 422
    )
    assert client.get(url).status_code == 401


def test_indicators_entered_and_imported(
    client: TestClient, shop: dict[str, Any], tmp_path: Path
) -> None:
    base = f"/api/v1/businesses/{shop['business'].id}/indicators"
    put = client.put(
        base,
        json={"indicator": "complaints", "date": "2026-01-06", "value": 5},
        headers=shop["auth"],
    )
    assert put.status_code == 200, put.text
    bad = "indicator,date,value\ncomplaints,07.01.2026,1\nmood,07.01.2026,3\nrating,08.01.2026,11\n"
    refused = client.post(
        base + "/import", files={"file": ("i.csv", bad.encode())}, headers=shop["auth"]
    )
    assert refused.status_code == 422
    lines = [e.get("line") for e in refused.json()["errors"]]
    assert lines == [3, 4]
    good = "indicator,date,value\ncomplaints,07.01.2026,1\n"
    good += 'rating,08.01.2026,"4,5"\nrating,13.01.2026,5\n'
    done = client.post(
        base + "/import", files={"file": ("i.csv", good.encode())}, headers=shop["auth"]
    )
    assert done.status_code == 200, done.text
    assert done.json()["inserted"] == 3
    weeks = client.get(
        f"/api/v1/businesses/{shop['business'].id}/kpis",
        params={"from": "2026-01-05", "to": "2026-01-18", "by": "week"},
        headers=shop["auth"],
    ).json()
    assert weeks[0]["indicators"] == {"complaints": 6.0, "rating": 4.5}
    assert weeks[1]["indicators"] == {"complaints": None, "rating": 5.0}


def test_kpi_command_prints_json(
    shop: dict[str, Any], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        args = ["kpi", "shop", "--from", "2026-01-01", "--to", "31.01.2026", "--by", "month"]
        result = CliRunner().invoke(cli, [*args, "--json"])
        assert result.exit_code == 0, result.output
        months = json.loads(result.output)
        assert len(months) == 1
        keys = {"start", "end", "partial", "customers", "new_customers", "receipts"}
        keys |= {"revenue_minor", "avg_check_minor", "repeat_share", "currency"}
        assert keys <= months[0].keys()
        assert months[0]["receipts"] == 4 and months[0]["revenue_minor"] == 42000
        assert months[0]["start"] == "2026-01-01" and months[0]["end"] == "2026-01-31"
        table = CliRunner().invoke(cli, args)
        assert table.exit_code == 0 and "420.00" in table.output
        assert CliRunner().invoke(cli, ["kpi", "nope", "--from", "x", "--to", "y"]).exit_code == 1
    finally:
        get_settings.cache_clear()


def test_kpi_page_shows_periods_and_records_indicators(
    client: TestClient, shop: dict[str, Any]
) -> None:
    from tests.conftest import sign_in

    token = sign_in(client, "o@example.com")
    business = shop["business"]
    dashboard = client.get(f"/b/{business.id}")
    assert f"/b/{business.id}/kpis" in dashboard.text
    url = f"/b/{business.id}/kpis"
    shown = client.get(url, params={"from": "2025-12-29", "to": "2026-01-18", "by": "week"})
    assert shown.status_code == 200, shown.text
    # dates as people read them (Babel, the page's language)
    assert "Jan 5, 2026 — Jan 11, 2026" in shown.text and "partial" in shown.text
    saved = client.post(
        url + "/indicators",
        data={"csrf_token": token, "indicator": "complaints", "date": "06.01.2026", "value": "5"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    compared = client.get(
        url,
        params={
            "before_from": "2025-12-29",
            "before_to": "2026-01-04",
            "after_from": "2026-01-05",
            "after_to": "2026-01-11",
        },
    )
    assert "Before and after" in compared.text and "Complaints" in compared.text
    refused = client.post(
        url + "/indicators",
        data={"csrf_token": token, "indicator": "mood", "date": "06.01.2026", "value": "5"},
    )
    assert refused.status_code == 422 and "Unknown indicator" in refused.text
    russian = client.get(url, headers={"Accept-Language": "ru"})
    assert "Показатели" in russian.text and "До и после" in russian.text
    assert "Жалобы" in russian.text and "Повторные покупки" in russian.text
