"""Defect 10: no secret in a settings repr, no recipient in worker logs, sent rows purged."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli
from crosspromo.db import make_engine, make_sessionmaker, utcnow
from crosspromo.outbox import service, worker
from crosspromo.outbox.models import OutboxMessage, Status
from crosspromo.settings import Settings


def test_settings_repr_hides_secrets() -> None:
    settings = Settings(
        secret_key="install-secret-123",
        smtp_password="smtp-pass-456",
        database_url="postgresql://app:db-pass-789@db/crosspromo",
        rate_limit_storage="redis://:redis-pass-012@cache:6379/0",
    )
    shown = repr(settings) + str(settings)
    for secret in ("install-secret-123", "smtp-pass-456", "db-pass-789", "redis-pass-012"):
        assert secret not in shown
    assert settings.resolved_secret_key() == "install-secret-123"


def test_mask_hides_addresses_and_phones() -> None:
    text = "refused: {'anna.petrova@example.org': (550, b'no')} and +7 912 345-67-89"
    masked = worker.mask(text)
    assert "anna.petrova" not in masked and "345-67" not in masked
    assert "a***@example.org" in masked and masked.endswith("***89")


def _message(db: Session, key: str, *, kind: str = "email") -> OutboxMessage:
    service.enqueue(
        db,
        kind=kind,
        key=key,
        payload={"to": "anna.petrova@example.org", "subject": "s", "text": "t"},
    )
    db.flush()
    return db.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def test_worker_logs_no_recipient(
    db: Session, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = _message(db, "refused").id
    db.commit()

    def refuse(_settings: Settings, _id: str, payload: dict[str, Any]) -> None:
        raise smtplib.SMTPRecipientsRefused({payload["to"]: (550, b"mailbox unavailable")})

    worker.SENDERS["refusing"] = refuse
    try:
        db.get(OutboxMessage, message_id).kind = "refusing"  # type: ignore[union-attr]
        db.commit()
        engine = make_engine(settings.resolved_database_url())
        with caplog.at_level(logging.INFO, logger="crosspromo.worker"):
            worker.deliver(make_sessionmaker(engine), settings)
        engine.dispose()
    finally:
        del worker.SENDERS["refusing"]
    db.expire_all()
    stored = db.get(OutboxMessage, message_id)
    assert stored is not None and stored.status is Status.pending
    assert "SMTPRecipientsRefused" in caplog.text
    assert "anna.petrova" not in caplog.text and "anna.petrova" not in stored.last_error


def test_purge_deletes_only_old_sent_rows(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    old_sent = _message(db, "old-sent")
    old_skipped = _message(db, "old-skipped")
    recent_sent = _message(db, "recent-sent")
    pending = _message(db, "pending")
    dead = _message(db, "dead")
    for message, status, age in (
        (old_sent, Status.sent, 40),
        (old_skipped, Status.skipped, 40),
        (recent_sent, Status.sent, 2),
        (dead, Status.dead, 40),
    ):
        message.status = status
        message.sent_at = now - timedelta(days=age) if status is not Status.dead else None
        message.created_at = now - timedelta(days=age)
    pending.created_at = now - timedelta(days=90)
    db.commit()

    assert service.purge_sent(db, keep=timedelta(days=30), now=now) == 2
    db.commit()
    left = set(db.scalars(select(OutboxMessage.key)))
    assert left == {"recent-sent", "pending", "dead"}

    # the worker's scheduled purge and the CLI use the setting / --days
    engine = make_engine(settings.resolved_database_url())
    assert worker.purge(make_sessionmaker(engine), settings) == 0
    engine.dispose()
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        ran = CliRunner().invoke(cli, ["outbox", "purge", "--days", "1"])
    finally:
        get_settings.cache_clear()
    assert ran.exit_code == 0, ran.output
    assert "Purged 1" in ran.output
    db.expire_all()
    assert set(db.scalars(select(OutboxMessage.key))) == {"pending", "dead"}


def test_run_purges_on_its_schedule(settings: Settings, db: Session) -> None:
    message = _message(db, "ancient")
    message.status = Status.sent
    message.sent_at = utcnow() - timedelta(days=settings.outbox_keep_days + 1)
    db.commit()
    engine = make_engine(settings.resolved_database_url())
    worker.run(make_sessionmaker(engine), settings, interval=0, once=True)
    engine.dispose()
    db.expire_all()
    assert list(db.scalars(select(OutboxMessage.key))) == []
