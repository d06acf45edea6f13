"""How each kind of outbox message leaves the process."""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from crosspromo.settings import Settings


class NotConfigured(Exception):
    """There is nothing to send this kind with; the message is marked skipped."""


class Refused(NotConfigured):
    """The receiver refused this message for good (an unknown address, a blocked bot): it is
    marked skipped, not retried, and its kind may record the refusal (see worker.SETTLED)."""


class Deferred(Exception):  # noqa: N818 (a decision, not an error)
    """Not now: the message waits until `until` (quiet hours), without using up an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


def send_email(settings: Settings, message_id: str, payload: dict[str, Any]) -> None:
    """One e-mail over SMTP; its Message-ID is the outbox id, so a repeat can be dropped."""
    if not settings.smtp_host:
        raise NotConfigured("no SMTP host configured (CROSSPROMO_SMTP_HOST)")
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = payload["to"]
    mail["Subject"] = payload["subject"]
    mail["Message-ID"] = f"<{message_id}@crosspromo>"
    mail.set_content(payload["text"])
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(mail)
