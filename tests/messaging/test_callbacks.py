"""Delivery status callbacks: reports from the SMS gateway and the e-mail provider land on
their deliveries, a bounce or complaint suppresses the address, the counts show per message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli_app
from crosspromo.messaging import callbacks, service
from crosspromo.messaging.models import Channel, Reason, Suppression
from crosspromo.settings import Settings, get_settings
from tests.messaging.conftest import HttpInbox, Mailbox, broadcast_to, consenting
from tests.messaging.test_delivery import tick


def _hook(client: Any, kind: str) -> str:
    return f"/hooks/messages/{kind}/{callbacks.token(kind, client.app.state.secret_key)}"


def test_sms_gateway_reports_delivered_and_undelivered(
    db: Session,
    client: Any,
    cafe: Any,
    channels_settings: Settings,
    http_inbox: HttpInbox,
) -> None:
    consenting(db, cafe.id, 2, channel=Channel.sms)
    made = broadcast_to(db, channels_settings, cafe, Channel.sms)
    assert tick(channels_settings) == 2
    sent = sorted(http_inbox.bodies("/sms/send"), key=lambda b: b["phone"])
    first, second = sent[0]["id"], sent[1]["id"]
    hook = _hook(client, "sms")

    # the wrong secret or kind is not found; a state we do not know is refused
    report = [{"id": first, "status": "delivered"}]
    assert client.post("/hooks/messages/sms/wrong", json=report).status_code == 404
    assert client.post(_hook(client, "fax"), json=report).status_code == 404
    bad = client.post(hook, json=[{"id": first, "status": "maybe"}])
    assert bad.status_code == 422, bad.text
    assert client.post(hook, json=[]).status_code == 422
    assert client.post(hook, json={"status": "delivered"}).status_code == 422

    answer = client.post(
        hook,
        json=[
            {"id": first, "status": "delivered"},
            {"id": second, "status": "UNDELIVERED"},
            {"id": "00000000-0000-0000-0000-000000000000", "status": "delivered"},
        ],
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"recorded": 2, "unknown": 1}
    # a late "delivered" does not hide the bounce
    assert client.post(hook, json={"id": second, "status": "delivered"}).json()["recorded"] == 1
    db.expire_all()
    results = service.stats(db, made)
    assert (results["delivered"], results["bounced"], results["complained"]) == (1, 1, 0)
    stopped = db.scalars(select(Suppression).where(Suppression.channel == Channel.sms)).all()
    assert [s.reason for s in stopped] == [Reason.bounce]
    # the same id reported on the e-mail hook is not one of its messages
    assert client.post(_hook(client, "email"), json=report).json() == {
        "recorded": 0,
        "unknown": 1,
    }


def test_email_complaint_suppresses_the_address(
    db: Session,
    client: Any,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    monkeypatch: Any,
) -> None:
    box, _ = mailbox
    consenting(db, cafe.id, 2)
    made = broadcast_to(db, channels_settings, cafe, Channel.email)
    assert tick(channels_settings) == 2
    ids = sorted(str(m["Message-ID"]) for m in box.messages)
    answer = client.post(
        _hook(client, "email"),
        json=[
            {"message_id": ids[0], "event": "complaint"},
            {"message_id": ids[1], "event": "delivered"},
        ],
    )
    assert answer.json() == {"recorded": 2, "unknown": 0}
    db.expire_all()
    results = service.stats(db, made)
    assert (results["delivered"], results["complained"]) == (1, 1)
    stopped = db.scalars(select(Suppression).where(Suppression.business_id == cafe.id)).all()
    assert [(s.channel, s.reason) for s in stopped] == [(Channel.email, Reason.complaint)]

    # the addresses to give the providers, from the CLI
    monkeypatch.setenv("CROSSPROMO_SECRET_KEY", client.app.state.secret_key)
    monkeypatch.setenv("CROSSPROMO_PUBLIC_URL", "https://promo.example")
    get_settings.cache_clear()
    try:
        printed = CliRunner().invoke(cli_app, ["messages", "callbacks"])
    finally:
        get_settings.cache_clear()
    assert printed.exit_code == 0, printed.output
    assert f"https://promo.example{_hook(client, 'email')}" in printed.output
