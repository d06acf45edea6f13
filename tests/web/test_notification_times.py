"""Notification times read as wall time in the business's own zone, not UTC."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.notifications import service
from crosspromo.notifications.models import Notification
from crosspromo.web import i18n
from tests.conftest import make_owner, sign_in


def test_notification_time_is_local(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery", timezone="Asia/Vladivostok")
    service.notify(
        db,
        business_id=bakery.id,
        kind="proposal.received",
        params={"partner": "Cafe", "title": "Coffee"},
        key="k1",
    )
    db.commit()
    sign_in(client, "a@example.com")
    html = client.get("/notifications").text
    stored = db.scalars(select(Notification)).first()
    assert stored is not None
    assert i18n.moment(stored.created_at, "Asia/Vladivostok") in html
    assert " UTC</small>" not in html
