"""Quiet hours in each customer's own zone, at fixed instants: a message due at night waits
for the morning there (it is deferred, not dropped), while a customer in daylight gets it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.messaging import delivery, quiet
from crosspromo.messaging.models import Contact, Delivery, DeliveryStatus
from crosspromo.outbox import service as outbox_service
from crosspromo.outbox.models import OutboxMessage, Status
from crosspromo.settings import Settings
from tests.campaigns.conftest import key
from tests.messaging.conftest import CONTENT, WORDING, Mailbox
from tests.messaging.test_delivery import tick

# Noon UTC on Monday 7 December 2026: 22:00 in Vladivostok, 13:00 in Berlin, 15:00 in Moscow.
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
# 09:00 on Tuesday in Vladivostok (UTC+10), the first minute after its quiet hours.
MORNING_THERE = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


def test_next_allowed_minute() -> None:
    assert quiet.next_allowed(NOON, "Europe/Berlin", 21, 9) is None
    assert quiet.next_allowed(NOON, "Asia/Vladivostok", 21, 9) == MORNING_THERE
    # after midnight the end is the same local day
    early = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)  # 06:30 in Vladivostok on the 8th
    assert quiet.next_allowed(early, "Asia/Vladivostok", 21, 9) == MORNING_THERE
    # a range inside the day, and none at all
    assert quiet.next_allowed(NOON, "UTC", 12, 14) == datetime(2026, 12, 7, 14, tzinfo=UTC)
    assert quiet.next_allowed(NOON, "UTC", 5, 5) is None
    # the clocks go forward in Berlin on 29 March 2026: 09:00 there is 07:00 UTC that day
    before = datetime(2026, 3, 28, 21, 30, tzinfo=UTC)  # 22:30 CET
    assert quiet.next_allowed(before, "Europe/Berlin", 21, 9) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )


def test_the_zone_a_phone_implies() -> None:
    assert quiet.zone_of_phone("+4915112345678") == "Europe/Berlin"
    assert quiet.zone_of_phone("+79161234567") is None  # Russian mobiles span eleven zones
    assert quiet.zone_of_phone("not a phone") is None


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the instant the worker sends (and claims) at."""

    def set_to(instant: datetime) -> None:
        monkeypatch.setattr(delivery, "utcnow", lambda: instant)
        monkeypatch.setattr(outbox_service, "utcnow", lambda: instant)

    return set_to


def test_a_message_waits_for_the_morning_in_the_customers_zone(
    client: TestClient,
    db: Session,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
    at: Any,
) -> None:
    box, _ = mailbox
    monkeypatch.setattr(client.app.state, "settings", channels_settings)
    h = key(db, cafe, Role.owner)
    api = f"/api/v1/businesses/{cafe.id}"
    people = {
        "far": {"email": "far@example.com", "timezone": "Asia/Vladivostok"},
        "berlin": {"email": "berlin@example.com", "phone": "+49 151 12345678"},
        "local": {"email": "local@example.com", "phone": "+7 916 123 45 67"},
    }
    zones = {}
    for name, body in people.items():
        made = client.post(f"{api}/contacts", headers=h, json=body)
        assert made.status_code == 201, made.text
        zones[name] = made.json()["timezone"]
        granted = client.post(
            f"{api}/contacts/{made.json()['id']}/consents",
            headers=h,
            json={"channel": "email", "granted": True, "source": "form", "wording": WORDING},
        )
        assert granted.status_code == 201
    assert zones == {"far": "Asia/Vladivostok", "berlin": "Europe/Berlin", "local": None}
    wrong = client.post(
        f"{api}/contacts", headers=h, json={"email": "x@example.com", "timezone": "Mars/Olympus"}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "timezone"
    half = client.put(f"{api}/messaging-preferences", headers=h, json={"quiet_from": 21})
    assert half.status_code == 422
    rules = client.put(
        f"{api}/messaging-preferences", headers=h, json={"quiet_from": 21, "quiet_until": 9}
    )
    assert rules.status_code == 200 and rules.json()["quiet_until"] == 9

    made = client.post(
        f"{api}/messages", headers=h, json={"channel": "email", "content": CONTENT["email"]}
    ).json()
    assert client.post(f"{api}/messages/{made['id']}/send", headers=h).json()["recipients"] == 3

    at(NOON)
    tick(channels_settings)
    assert sorted(box.to()) == ["berlin@example.com", "local@example.com"]
    db.expire_all()
    far = db.scalar(select(Contact).where(Contact.email == "far@example.com"))
    assert far is not None
    waiting = db.scalar(
        select(OutboxMessage).where(OutboxMessage.key == f"message:{made['id']}:{far.id}")
    )
    assert waiting is not None
    assert (waiting.status, waiting.next_attempt_at, waiting.attempts) == (
        Status.pending,
        MORNING_THERE,
        0,
    )
    held = db.scalar(select(Delivery).where(Delivery.contact_id == far.id))
    assert held is not None and held.status is DeliveryStatus.queued

    at(datetime(2026, 12, 7, 22, 59, tzinfo=UTC))  # still night there: not even tried
    assert tick(channels_settings) == 0
    at(MORNING_THERE)
    tick(channels_settings)
    assert sorted(box.to()) == ["berlin@example.com", "far@example.com", "local@example.com"]
    db.expire_all()
    assert db.get(Delivery, held.id).status is DeliveryStatus.sent  # type: ignore[union-attr]
