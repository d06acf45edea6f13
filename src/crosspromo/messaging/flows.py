"""Sending and previewing, shared by the API, the pages and the CLI so they cannot drift."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.messaging import render, service
from crosspromo.messaging.models import Channel
from crosspromo.settings import Settings


def send(
    session: Session, settings: Settings, *, business_id: uuid.UUID, broadcast_id: uuid.UUID
) -> int:
    """Queue the message to every consenting contact under the install's caps and rules."""
    return service.queue(
        session,
        business_id=business_id,
        broadcast_id=broadcast_id,
        public_url=settings.public_url,
        mail_from=settings.mail_from,
        weekly_cap=settings.messages_weekly_cap,
        window_days=settings.partner_share_days,
        quiet_hours=(settings.messages_quiet_from, settings.messages_quiet_until),
    )


SAMPLE = {"en": "Anna", "ru": "Анна"}


def preview(
    channel: Channel, content: dict[str, Any], business: str, public_url: str
) -> dict[str, dict[str, str]]:
    """Each language's parts filled in for a sample contact."""
    checked = render.check(channel, content)
    base = public_url.rstrip("/")
    return {
        locale: render.fill(
            parts,
            {
                "name": SAMPLE[locale],
                "business": business,
                "unsubscribe_url": f"{base}/u/preview/unsubscribe",
                "preferences_url": f"{base}/u/preview",
                "link": lambda url: url,
            },
        )
        for locale, parts in checked.items()
    }
