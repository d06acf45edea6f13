"""Broadcasts arrive once per recipient at a local SMTP server, a fake SMS gateway and a fake
Bot API; consent, suppressions and weekly caps are checked when each message is sent."""

from __future__ import annotations

import base64
import json
import multiprocessing as mp
import subprocess
from datetime import timedelta
from typing import Any

import dkim
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crosspromo.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from crosspromo.messaging import channels, contacts, delivery, flows, service
from crosspromo.messaging.models import Channel, Delivery, DeliveryStatus, Reason
from crosspromo.outbox import service as outbox
from crosspromo.outbox import worker
from crosspromo.outbox.models import OutboxMessage
from crosspromo.settings import Settings
from tests.messaging.conftest import HttpInbox, Mailbox, broadcast_to, consenting


def tick(settings: Settings) -> int:
    delivery.register()
    engine = make_engine(settings.resolved_database_url())
    try:
        return worker.tick(make_sessionmaker(engine), settings)
    finally:
        channels.close()
        engine.dispose()


def results(db: Session, made: Any) -> dict[str, int]:
    """Recipients per delivery status (clicks are counted in their own test)."""
    db.expire_all()
    counts = service.stats(db, made)
    counts.pop("clicked")
    counts.pop("unsubscribed")
    for reported in ("redeemed", "delivered", "bounced", "complained"):
        counts.pop(reported)
    return counts


def test_one_message_per_channel_arrives(
    db: Session,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    http_inbox: HttpInbox,
    tmp_path: Any,
) -> None:
    box, _ = mailbox
    pem = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(pem), "2048"], check=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(pem), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    settings = channels_settings.model_copy(
        update={
            "dkim_selector": "mail",
            "dkim_domain": "promo.example",
            "dkim_key_file": tmp_path / "dkim.pem",
        }
    )
    people = consenting(db, cafe.id, 2)
    for person in people:
        for channel in (Channel.sms, Channel.telegram):
            contacts.record_consent(
                db, person, channel=channel, granted=True, source="form", wording="yes"
            )
    db.commit()
    sent = [broadcast_to(db, settings, cafe, c) for c in Channel]
    assert tick(settings) == 6

    assert sorted(box.to()) == ["guest0@example.com", "guest1@example.com"]
    english = next(m for m in box.messages if m["To"] == "guest0@example.com")
    russian = next(m for m in box.messages if m["To"] == "guest1@example.com")
    assert english["Subject"] == "News from Cafe Lumiere"
    assert "Cafe Lumiere" in english["From"]
    assert russian["Subject"] == "Новости Cafe Lumiere"
    plain, html = [part.get_content_type() for part in english.walk()][1:]
    assert (plain, html) == ("text/plain", "text/html")
    body = english.get_body(("html",)).get_content()
    assert 'style="color: #a33;"' in body and "<style>" not in body  # inlined by css_inline
    token = people[0].token
    assert english["List-Unsubscribe"] == (
        f"<https://promo.example/u/{token}/unsubscribe?channel=email>"
    )
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.promo.example."
        return record

    assert all(dkim.verify(raw, dnsfunc=dns) for raw in box.raw)

    sms = http_inbox.bodies("/sms/send")
    assert sorted(b["phone"] for b in sms) == ["+79120000000", "+79120000001"]
    assert {b["message"] for b in sms} == {
        "Cafe Lumiere: hello Guest 0",
        "Cafe Lumiere: hello Guest 1",
    }
    headers = [h for path, _, h in http_inbox.requests if "/sms/" in path]
    assert all(h["Authorization"] == "Bearer gw-secret" for h in headers)
    bot = http_inbox.bodies("/bot123:abc/sendMessage")
    assert sorted(b["chat_id"] for b in bot) == ["1000", "1001"]
    assert {b["text"] for b in bot} == {
        "Cafe Lumiere: привет, Guest 0",
        "Cafe Lumiere: привет, Guest 1",
    }  # the only language written serves everyone
    for made in sent:
        assert results(db, made)["sent"] == 2
    assert tick(settings) == 0


def test_unsubscribed_a_second_ago_is_not_sent(
    db: Session,
    client: Any,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, _ = mailbox
    people = consenting(db, cafe.id, 3)
    made = broadcast_to(db, channels_settings, cafe, Channel.email)
    # The mailbox provider's button: a POST with the RFC 8058 body, no cookie, no form token.
    answer = client.post(
        f"/u/{people[1].token}/unsubscribe?channel=email",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    assert "Здравствуйте" not in answer.text  # Guest 1 reads Russian
    assert "Ваши настройки рассылок" in answer.text
    assert tick(channels_settings) == 3
    assert sorted(box.to()) == ["guest0@example.com", "guest2@example.com"]
    assert results(db, made) == {"queued": 0, "sent": 2, "skipped": 1, "failed": 0}
    db.expire_all()
    evidence = contacts.consents(db, people[1])
    assert [(e.granted, e.source) for e in evidence][0] == (False, "one-click unsubscribe")
    # Opening the link (a scanner) changes nothing.
    assert client.get(f"/u/{people[0].token}/unsubscribe").status_code == 200
    db.expire_all()
    assert contacts.get(db, business_id=cafe.id, contact_id=people[0].id).email_consent


def test_a_refused_address_is_suppressed(
    db: Session,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    http_inbox: HttpInbox,
) -> None:
    box, _ = mailbox
    box.refuse.add("guest1@example.com")
    http_inbox.refuse.add("1000")  # the first guest blocked the bot
    people = consenting(db, cafe.id, 2)
    contacts.record_consent(
        db, people[0], channel=Channel.telegram, granted=True, source="bot", wording="/start"
    )
    db.commit()
    first = broadcast_to(db, channels_settings, cafe, Channel.email)
    bot = broadcast_to(db, channels_settings, cafe, Channel.telegram)
    assert tick(channels_settings) == 3
    assert results(db, first) == {"queued": 0, "sent": 1, "skipped": 0, "failed": 1}
    assert results(db, bot)["failed"] == 1
    assert contacts.suppressed(
        db, business_id=cafe.id, channel=Channel.email, digest=people[1].email_hash or ""
    )
    box.refuse.clear()
    second = broadcast_to(db, channels_settings, cafe, Channel.email)
    assert tick(channels_settings) == 2
    assert results(db, second) == {"queued": 0, "sent": 1, "skipped": 1, "failed": 0}
    assert box.to() == ["guest0@example.com", "guest0@example.com"]
    # A complaint reported by hand stops the address too.
    contacts.suppress(
        db,
        business_id=cafe.id,
        channel=Channel.email,
        address_value="GUEST0@example.com",
        reason=Reason.complaint,
        secret_key="test-secret",
    )
    db.commit()
    third = broadcast_to(db, channels_settings, cafe, Channel.email)
    tick(channels_settings)
    assert results(db, third)["skipped"] == 2


def test_weekly_cap_counts_every_business_together(
    db: Session,
    cafe: Any,
    bakery: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, _ = mailbox
    settings = channels_settings.model_copy(update={"messages_weekly_cap": 3})
    consenting(db, cafe.id, 1, prefix="same")
    consenting(db, bakery.id, 1, prefix="same")  # the same person, known to both
    made = [broadcast_to(db, settings, biz, Channel.email) for biz in (cafe, bakery, cafe)]
    made.append(broadcast_to(db, settings, bakery, Channel.email))
    tick(settings)
    assert len(box.to()) == 3
    assert sum(results(db, m)["skipped"] for m in made) == 1
    # The cafe's own cap is stricter: one a week, already used.
    service.set_preferences(db, business_id=cafe.id, weekly_cap=1, partner_share_bp=2000)
    consenting(db, cafe.id, 1, prefix="fresh", start=100)
    db.commit()
    more = broadcast_to(db, settings, cafe, Channel.email)
    tick(settings)
    assert results(db, more) == {"queued": 0, "sent": 1, "skipped": 1, "failed": 0}


def _work(url: str, settings_json: str, barrier: Any, out: Any) -> None:
    settings = Settings.model_validate_json(settings_json)
    barrier.wait()
    out.put(sum(tick(settings) for _ in range(3)))


def _settings_json(settings: Settings) -> str:
    data = settings.model_dump(mode="json")
    for secret in ("secret_key", "smtp_password", "sms_gateway_auth", "telegram_bot_token"):
        data[secret] = getattr(settings, secret).get_secret_value()
    data["database_url"] = settings.database_url
    return json.dumps(data)


def test_two_workers_send_each_recipient_once(
    db: Session,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    http_inbox: HttpInbox,
) -> None:
    box, _ = mailbox
    settings = channels_settings.model_copy(update={"messages_weekly_cap": 2})
    people = consenting(db, cafe.id, 30)
    for person in people:
        contacts.record_consent(
            db, person, channel=Channel.sms, granted=True, source="form", wording="yes"
        )
    db.commit()
    email = broadcast_to(db, settings, cafe, Channel.email)
    sms = broadcast_to(db, settings, cafe, Channel.sms)
    third = broadcast_to(db, settings, cafe, Channel.email)  # over the cap of 2 for everyone
    context = mp.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    blob = _settings_json(settings)
    workers = [
        context.Process(target=_work, args=(settings.database_url, blob, barrier, out))
        for _ in range(2)
    ]
    for process in workers:
        process.start()
    totals = [out.get(timeout=180) for _ in workers]
    for process in workers:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert sum(totals) == 90
    # Each person got two of the three messages (which two depends on the order the workers
    # claimed them), and never one message twice.
    ids = [str(m["Message-ID"]) for m in box.messages]
    assert len(ids) == len(set(ids))
    phones = [b["phone"] for b in http_inbox.bodies("/sms/send")]
    assert len(phones) == len(set(phones))
    assert len(ids) + len(phones) == 60
    counts = [results(db, made) for made in (email, sms, third)]
    assert sum(c["sent"] for c in counts) == 60
    assert sum(c["skipped"] for c in counts) == 30
    assert all(c["queued"] == 0 and c["failed"] == 0 for c in counts)


def test_a_killed_worker_is_resumed_without_repeats(
    db: Session, cafe: Any, channels_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    consenting(db, cafe.id, 6)
    made = broadcast_to(db, channels_settings, cafe, Channel.email)
    factory = make_sessionmaker(make_engine(channels_settings.resolved_database_url()))
    # A worker leases four messages, sends two and dies before recording anything.
    with unit_of_work(factory) as session:
        leased = outbox.claim(session, limit=4)
    delivery.register()
    with unit_of_work(factory) as session:
        messages = outbox.load(session, leased[:2])
        prepared = [(str(m.id), delivery.prepare(session, dict(m.payload))) for m in messages]
    for message_id, payload in prepared:
        delivery.send(channels_settings, message_id, payload)
    assert tick(channels_settings) == 2  # the unleased two; the others wait for the lease
    assert len(box.to()) == 4
    db.execute(update(OutboxMessage).values(leased_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert tick(channels_settings) == 4
    # The two sent before the crash went again: the documented at-least-once edge, with the
    # same Message-ID so the receiver can drop them; the other four went exactly once.
    ids = [str(m["Message-ID"]) for m in box.messages]
    assert len(set(ids)) == 6 and len(ids) == 8
    assert results(db, made)["sent"] == 6
    charged = db.scalars(select(Delivery).where(Delivery.broadcast_id == made.id)).all()
    assert all(d.capped and d.status is DeliveryStatus.sent for d in charged)


def test_tracking_links_are_per_recipient(
    db: Session,
    client: Any,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, _ = mailbox
    consenting(db, cafe.id, 2)
    made = service.create(
        db,
        business_id=cafe.id,
        sender_name=cafe.name,
        channel=Channel.email,
        content={
            "en": {
                "subject": "Menu",
                "text": 'Menu: {{ link("https://cafe.example/menu") }}',
                "html": '<a href="{{ link("https://cafe.example/menu") }}">Menu</a>',
            }
        },
    )
    assert made.links == ["https://cafe.example/menu"]
    flows.send(db, channels_settings, business_id=cafe.id, broadcast_id=made.id)
    db.commit()
    tick(channels_settings)
    urls = [m.get_body(("plain",)).get_content().split("Menu: ")[1].strip() for m in box.messages]
    assert len(set(urls)) == 2 and all(u.startswith("https://promo.example/m/") for u in urls)
    path = urls[0].removeprefix("https://promo.example")
    followed = client.get(path, follow_redirects=False)
    assert followed.status_code == 302
    assert followed.headers["location"] == "https://cafe.example/menu"
    client.get(path, follow_redirects=False)  # twice by one person: one clicker
    assert client.get(path[:-1] + "7", follow_redirects=False).status_code == 404
    assert client.get("/m/unknown/0", follow_redirects=False).status_code == 404
    db.expire_all()
    assert service.stats(db, made)["clicked"] == 1


def test_smtp_outage_then_recovery_loses_nothing(
    db: Session, client: Any, cafe: Any, channels_settings: Settings
) -> None:
    from aiosmtpd.controller import Controller

    from tests.messaging.conftest import free_port

    port = free_port()  # nothing listens there yet
    settings = channels_settings.model_copy(update={"smtp_port": port})
    people = consenting(db, cafe.id, 3)
    made = broadcast_to(db, settings, cafe, Channel.email)
    assert tick(settings) == 3
    assert results(db, made)["queued"] == 3  # each waits for its retry
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        db.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.commit()
        assert tick(settings) == 3
    finally:
        controller.stop()
    assert sorted(box.to()) == [f"guest{i}@example.com" for i in range(3)]
    assert results(db, made)["sent"] == 3
    # One of them unsubscribes from the message afterwards: counted on it.
    client.post(f"/u/{people[0].token}/unsubscribe?channel=email")
    db.expire_all()
    assert service.stats(db, made)["unsubscribed"] == 1


class Killed(BaseException):
    """The worker dies (not an error it could record)."""


def test_a_worker_killed_mid_batch_repeats_only_the_unrecorded_chunk(
    db: Session,
    cafe: Any,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    monkeypatch: Any,
) -> None:
    box, _ = mailbox
    consenting(db, cafe.id, 6)
    made = broadcast_to(db, channels_settings, cafe, Channel.email)
    monkeypatch.setattr(delivery, "SETTLE_EVERY", 2)
    real, calls = channels.send_many, []

    def dies_after_the_second_send(settings: Settings, messages: Any) -> Any:
        done = real(settings, messages)
        calls.append(len(messages))
        if len(calls) == 2:
            raise Killed  # the provider has these two; nothing recorded them
        return done

    monkeypatch.setattr(channels, "send_many", dies_after_the_second_send)
    with pytest.raises(Killed):
        tick(channels_settings)
    assert len(box.to()) == 4
    monkeypatch.setattr(channels, "send_many", real)
    assert tick(channels_settings) == 0  # the batch is leased still
    db.execute(update(OutboxMessage).values(leased_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert tick(channels_settings) == 4  # the two unrecorded and the two never sent
    ids = [str(m["Message-ID"]) for m in box.messages]
    assert len(set(ids)) == 6 and len(ids) == 8
    assert results(db, made)["sent"] == 6
