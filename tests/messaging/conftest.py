"""Local servers the messages arrive at: an SMTP server, a fake SMS gateway, a fake Bot API."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from crosspromo.messaging import contacts, flows, service
from crosspromo.messaging.models import Channel, Contact
from crosspromo.settings import Settings
from tests.conftest import make_owner

WORDING = "I agree to receive news and offers from the cafe by e-mail, SMS and Telegram."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping each message; addresses in `refuse` get a 550."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802, E501
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.raw.append(envelope.content)
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def to(self) -> list[str]:
        with self.lock:
            return [str(m["To"]) for m in self.messages]


@dataclass
class HttpInbox:
    """What the fake SMS gateway and the fake Bot API were sent."""

    port: int
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path_part: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for path, body, _ in self.requests if path_part in path]


def _handler(inbox: HttpInbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            size = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(size).decode()
            if "json" in self.headers.get("content-type", ""):
                body = json.loads(raw)
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            target = str(body.get("chat_id", body.get("to", "")))
            if target in inbox.refuse:
                self.send_response(403 if "/bot" in self.path else 400)
                self.end_headers()
                return
            with inbox.lock:
                inbox.requests.append((self.path, body, dict(self.headers)))
            answer = json.dumps({"ok": True, "result": {"message_id": len(inbox.requests)}})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

    return Handler


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def http_inbox() -> Iterator[HttpInbox]:
    inbox = HttpInbox(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(inbox))
    inbox.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield inbox
    server.shutdown()
    server.server_close()


@pytest.fixture
def channels_settings(
    database_url: str, mailbox: tuple[Mailbox, int], http_inbox: HttpInbox
) -> Settings:
    """The install pointed at the local servers, with no pacing to speak of."""
    base = f"http://127.0.0.1:{http_inbox.port}"
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        sms_gateway_url=f"{base}/sms/send",
        sms_gateway_auth="Bearer gw-secret",
        sms_gateway_to_field="phone",
        sms_gateway_text_field="message",
        telegram_api_url=base,
        telegram_bot_token="123:abc",
        message_rate_email="1000/second",
        message_rate_sms="1000/second",
        message_rate_telegram="1000/second",
        public_url="https://promo.example",
        # Sends are not held for the night here: these tests run at any hour of the day
        # (quiet hours are tested with fixed instants in test_quiet_hours.py).
        messages_quiet_from=0,
        messages_quiet_until=0,
    )


def consenting(
    db: Session,
    business_id: Any,
    n: int,
    *,
    prefix: str = "guest",
    channel: Channel = Channel.email,
    start: int = 0,
) -> list[Contact]:
    """`n` contacts with e-mail, phone and Telegram, consenting on `channel`."""
    found = []
    for i in range(start, start + n):
        contact = contacts.add_contact(
            db,
            business_id=business_id,
            secret_key="test-secret",
            region="RU",
            name=f"Guest {i}",
            email=f"{prefix}{i}@example.com",
            phone=f"+7 912 {i // 10000:03d} {i % 10000:04d}",
            telegram_chat_id=str(1000 + i),
            locale="ru" if i % 2 else "en",
        )
        contacts.record_consent(
            db, contact, channel=channel, granted=True, source="counter form", wording=WORDING
        )
        found.append(contact)
    db.commit()
    return found


CONTENT = {
    Channel.email: {
        "en": {
            "subject": "News from {{ business }}",
            "text": "Hello {{ name }}! Unsubscribe: {{ unsubscribe_url }}",
            "html": "<style>p{color:#a33}</style><p>Hello {{ name }}!</p>",
        },
        "ru": {
            "subject": "Новости {{ business }}",
            "text": "Здравствуйте, {{ name }}! Отписаться: {{ unsubscribe_url }}",
            "html": "<style>p{color:#a33}</style><p>Здравствуйте, {{ name }}!</p>",
        },
    },
    Channel.sms: {"en": {"text": "{{ business }}: hello {{ name }}"}},
    Channel.telegram: {"ru": {"text": "{{ business }}: привет, {{ name }}"}},
}


def broadcast_to(
    db: Session, settings: Settings, business: Any, channel: Channel, **extra: Any
) -> Any:
    """A message on `channel` written and queued to every consenting contact."""
    made = service.create(
        db,
        business_id=business.id,
        sender_name=business.name,
        channel=channel,
        content=CONTENT[channel],
        **extra,
    )
    flows.send(db, settings, business_id=business.id, broadcast_id=made.id)
    db.commit()
    return made


@pytest.fixture
def cafe(db: Session) -> Any:
    return make_owner(db, "cafe@example.com", "Cafe Lumiere", category="amenity=cafe")[1]


@pytest.fixture
def bakery(db: Session) -> Any:
    return make_owner(db, "bakery@example.com", "Bakery Bloom")[1]
