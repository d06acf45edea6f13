"""The KPI page's indicator form (a plain `def` route reading the form): saves, or refuses
with nothing stored."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.measurement.indicator_models import IndicatorValue
from tests.conftest import make_owner, sign_in


def test_an_indicator_entered_on_the_page(client: TestClient, db: Session) -> None:
    _, business = make_owner(db, "kpi@example.com", "Shop", timezone="Europe/Moscow")
    csrf = sign_in(client, "kpi@example.com")
    url = f"/b/{business.id}/kpis/indicators"
    entry = {"indicator": "complaints", "date": "06.01.2026", "value": "5", "csrf_token": csrf}
    saved = client.post(url, data=entry, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("saved=1")
    refused = client.post(url, data=entry | {"indicator": "mood"}, follow_redirects=False)
    assert refused.status_code == 422 and "mood" in refused.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(IndicatorValue)) == 1
