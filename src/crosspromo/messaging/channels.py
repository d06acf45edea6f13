"""Channel adapters behind one interface: SMTP e-mail, an HTTP SMS gateway, Telegram's Bot API.

Each adapter sends one prepared message and returns; it raises `Refused` when the receiver
refuses the address for good (the address is then suppressed, nothing is retried), another
exception for a failure worth retrying (the outbox retries with backoff), and `NotConfigured`
when the install has no such provider. Sends are paced per provider and worker process.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

import httpx
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from crosspromo.messaging import render
from crosspromo.messaging.models import Channel
from crosspromo.outbox.senders import NotConfigured, Refused
from crosspromo.settings import Settings

TIMEOUT = 30.0
_pace = MovingWindowRateLimiter(MemoryStorage())


class Adapter(Protocol):
    def __call__(
        self,
        settings: Settings,
        message_id: str,
        message: dict[str, Any],
        client: httpx.Client | None = None,
    ) -> None: ...


def pace(channel: Channel, settings: Settings, count: int = 1) -> None:
    """Wait until the provider's rate lets `count` more messages go from this process."""
    rate = parse(getattr(settings, f"message_rate_{channel.value}"))
    while count > 0:
        step = min(count, rate.amount)
        while not _pace.hit(rate, channel.value, cost=step):
            time.sleep(0.05)
        count -= step


def send_email(
    settings: Settings, message_id: str, message: dict[str, Any], client: httpx.Client | None = None
) -> None:
    """Over SMTP: plain and HTML parts, List-Unsubscribe headers, DKIM when configured."""
    if not settings.smtp_host:
        raise NotConfigured("no SMTP host configured (CROSSPROMO_SMTP_HOST)")
    mail = render.Email(
        sender=message["from"],
        to=message["to"],
        subject=message["subject"],
        text=message["text"],
        html=message.get("html", ""),
        headers=message.get("headers", {}),
    )
    domain = settings.dkim_domain or "crosspromo"
    raw = render.email_bytes(mail, message_id=message_id, domain=domain)
    if settings.dkim_selector and settings.dkim_domain and settings.dkim_key_file:
        raw = render.sign(
            raw,
            selector=settings.dkim_selector,
            domain=settings.dkim_domain,
            private_key=settings.dkim_key_file.read_bytes(),
        )
    try:
        _deliver(settings, render.bare_address(mail.sender), mail.to, raw)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise Refused(f"recipient refused ({codes[0]})") from exc
        raise


# One open SMTP connection per server and worker process, reused from message to message (a
# new connection per message costs more than the message); dropped on any error.
_connections: dict[tuple[str, int, str], smtplib.SMTP] = {}
_connections_lock = threading.Lock()


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT)
    if settings.smtp_starttls:
        smtp.starttls()
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    return smtp


def _deliver(settings: Settings, sender: str, to: str, raw: bytes) -> None:
    key = (settings.smtp_host, settings.smtp_port, settings.smtp_user)
    with _connections_lock:
        smtp = _connections.pop(key, None)
        fresh = smtp is None
        if smtp is None:
            smtp = _connect(settings)
        try:
            smtp.sendmail(sender, [to], raw)
        except smtplib.SMTPServerDisconnected:
            if fresh:
                raise
            smtp = _connect(settings)  # the server closed an idle connection: once more
            smtp.sendmail(sender, [to], raw)
        except smtplib.SMTPRecipientsRefused:
            smtp.rset()
            _connections[key] = smtp
            raise
        except BaseException:
            smtp.close()
            raise
        _connections[key] = smtp


def close() -> None:
    """Close the kept SMTP connections (at the end of a worker's run, and in tests)."""
    with _connections_lock:
        for smtp in _connections.values():
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        _connections.clear()


@contextmanager
def _client(shared: httpx.Client | None) -> Iterator[httpx.Client]:
    """The batch's client (one kept-alive connection per provider), else one for this message."""
    if shared is not None:
        yield shared
        return
    with httpx.Client(timeout=TIMEOUT) as client:
        yield client


def send_sms(
    settings: Settings, message_id: str, message: dict[str, Any], client: httpx.Client | None = None
) -> None:
    """A POST to the configured gateway with the configured field names."""
    if not settings.sms_gateway_url:
        raise NotConfigured("no SMS gateway configured (CROSSPROMO_SMS_GATEWAY_URL)")
    fields = {
        settings.sms_gateway_to_field: message["to"],
        settings.sms_gateway_text_field: message["text"],
        "id": message_id,
    }
    if settings.sms_sender:
        fields[settings.sms_gateway_from_field] = settings.sms_sender
    headers = {"Idempotency-Key": message_id}
    auth = settings.sms_gateway_auth.get_secret_value()
    if auth:
        headers["Authorization"] = auth
    with _client(client) as http:
        if settings.sms_gateway_json:
            response = http.post(settings.sms_gateway_url, json=fields, headers=headers)
        else:
            response = http.post(settings.sms_gateway_url, data=fields, headers=headers)
    if response.status_code in (400, 404, 422):
        raise Refused(f"gateway refused the number ({response.status_code})")
    response.raise_for_status()


def send_telegram(
    settings: Settings, message_id: str, message: dict[str, Any], client: httpx.Client | None = None
) -> None:
    """`sendMessage` of the Bot API; a blocked bot or an unknown chat is a refusal."""
    token = settings.telegram_bot_token.get_secret_value()
    if not token:
        raise NotConfigured("no Telegram bot configured (CROSSPROMO_TELEGRAM_BOT_TOKEN)")
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{token}/sendMessage"
    body = {"chat_id": message["to"], "text": message["text"], "disable_web_page_preview": True}
    with _client(client) as http:
        response = http.post(url, json=body)
    if response.status_code in (400, 403):
        raise Refused(f"Telegram refused the chat ({response.status_code})")
    response.raise_for_status()
    if not response.json().get("ok"):
        raise RuntimeError("Telegram answered ok=false")


ADAPTERS: dict[Channel, Adapter] = {
    Channel.email: send_email,
    Channel.sms: send_sms,
    Channel.telegram: send_telegram,
}


def send(settings: Settings, message_id: str, message: dict[str, Any]) -> None:
    """Send one prepared message through its channel's adapter, paced per provider."""
    channel = Channel(message["channel"])
    pace(channel, settings)
    ADAPTERS[channel](settings, message_id, message)


def send_many(
    settings: Settings, messages: list[tuple[str, dict[str, Any]]]
) -> list[Exception | None]:
    """Send a batch, paced once per provider, e-mail over the kept SMTP connection and the
    rest over one HTTP client; for each message its failure, or None when it went."""
    failures: list[Exception | None] = [None] * len(messages)
    for channel in Channel:
        mine = [i for i, (_, message) in enumerate(messages) if message["channel"] == channel]
        if not mine:
            continue
        pace(channel, settings, len(mine))
        with ExitStack() as stack:
            client = None
            if channel is not Channel.email:
                client = stack.enter_context(httpx.Client(timeout=TIMEOUT))
            for i in mine:
                message_id, message = messages[i]
                try:
                    ADAPTERS[channel](settings, message_id, message, client)
                except Exception as exc:  # recorded per message; the outbox retries it
                    failures[i] = exc
    return failures
