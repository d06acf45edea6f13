"""The dashboard's sales chart: a Vega-Lite spec with axes and values, and a freshness line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.measurement.dashboard import freshness
from crosspromo.sales.models import Transaction
from tests.conftest import make_owner, sign_in

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_freshness_in_the_business_zone_and_language() -> None:
    last = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)  # 26 Oct in Moscow (UTC+3)
    assert freshness(last, zone="Europe/Moscow", locale="en", now=NOW) == (
        "Last receipt 26 Oct, 34 days ago"
    )
    assert freshness(last, zone="Europe/Moscow", locale="ru", now=NOW) == (
        "Последний чек 26 окт., 34 дня назад"
    )
    assert freshness(last, zone="UTC", locale="en", now=NOW).startswith("Last receipt 25 Oct")
    assert freshness(NOW, zone="UTC", locale="en", now=NOW) == "Last receipt 29 Nov, today"
    old = datetime(2025, 3, 1, tzinfo=UTC)
    assert "1 Mar 2025" in freshness(old, zone="UTC", locale="en", now=NOW)
    assert freshness(None, zone="UTC", locale="ru", now=NOW) == "Чеков пока нет."


def test_dashboard_embeds_the_chart(client: TestClient, db: Session) -> None:
    _, shop = make_owner(db, "owner@example.com", "Shop")
    start = datetime.now(UTC) - timedelta(days=60)
    for i in range(40):
        db.add(
            Transaction(
                business_id=shop.id,
                external_id=f"t{i}",
                at=start + timedelta(days=i),
                amount_minor=10_000 + i,
                currency=shop.currency,
                row_hash=f"h{i}",
            )
        )
    db.commit()
    sign_in(client, "owner@example.com")
    page = client.get(f"/b/{shop.id}")
    assert page.status_code == 200
    assert '<script src="/static/charts.js" defer></script>' in page.text
    raw = page.text.split('data-chart="sales-chart">', 1)[1].split("</script>", 1)[0]
    spec = json.loads(raw)
    layers = spec["layer"]
    assert layers[0]["encoding"]["x"]["title"] == "Week starting"
    assert layers[0]["encoding"]["y"]["title"].startswith("Revenue, ")
    assert layers[1]["mark"]["type"] == "text"  # the values written on the bars
    rows = spec["data"]["values"]
    assert sum(r["value"] for r in rows) * 100 == sum(10_000 + i for i in range(40))
    assert rows[0]["kind"] == "Partial week" or rows[-1]["kind"] == "Partial week"
    assert "Last receipt" in page.text and "days ago" in page.text
    ru = client.get(f"/b/{shop.id}", cookies={"locale": "ru"})
    assert "Выручка по неделям" in ru.text and "Последний чек" in ru.text
    assert client.get("/static/vendor/vega-embed-7.3.0.min.js").status_code == 200
