"""Defect 1: webhooks reach only the public internet, checked at registration and at send."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo import outbound
from crosspromo.outbox import cli as outbox_cli
from crosspromo.outbox import worker
from crosspromo.outbox.models import OutboxMessage, Status
from tests.offers.conftest import make_offer

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1:5432/",
    "https://[::1]:8000/",
    "https://localhost:6379/",
    "https://10.0.0.7/hook",
    "https://172.16.3.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",  # CGNAT
    "https://224.0.0.1/hook",  # multicast
    "https://[ff0e::1]/hook",  # global-scope multicast
    "https://240.0.0.1/hook",  # reserved
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:169.254.169.254]/hook",
    "https://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
    "https://[2002:a9fe:a9fe::]/hook",  # 6to4 around 169.254.169.254
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 around 169.254.169.254
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
    "http://93.184.215.14/hook",  # public, but not https
    "https://user:pw@93.184.215.14/hook",
    "ftp://93.184.215.14/hook",
    "https://no-such-host.invalid/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_and_odd_targets_are_refused(url: str) -> None:
    with pytest.raises(outbound.UnsafeTarget):
        outbound.resolve(url)


def test_public_targets_pass() -> None:
    target = outbound.resolve("https://93.184.215.14:8443/hook?x=1")
    assert target.addresses == (ipaddress.ip_address("93.184.215.14"),)
    assert target.host_header == "93.184.215.14:8443"
    assert target.url_for(target.addresses[0]) == "https://93.184.215.14:8443/hook?x=1"
    assert outbound.is_public(ipaddress.ip_address("2606:4700:4700::1111"))
    assert not outbound.is_public(ipaddress.ip_address("2002:a00:1::"))  # 6to4 around 10.0.0.1


def _resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", fake)


def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving_to(monkeypatch, "93.184.215.14", "10.1.2.3")
    with pytest.raises(outbound.UnsafeTarget, match="10.1.2.3"):
        outbound.resolve("https://hooks.example/in")


def test_registration_refuses_private_targets(client: TestClient, running: dict[str, Any]) -> None:
    url = f"/api/v1/businesses/{running['cafe'].id}/webhooks"
    owner = running["cafe_owner"]
    for target in ("http://169.254.169.254/latest/meta-data/", "https://[::1]:8000/"):
        refused = client.post(url, headers=owner, json={"url": target})
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "/problems/validation"
    assert client.get(url, headers=owner).json() == []
    made = client.post(url, headers=owner, json={"url": "https://93.184.215.14/hook"})
    assert made.status_code == 201, made.text


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def _redeem_once(client: TestClient, running: dict[str, Any]) -> None:
    offer = make_offer(client, running, running["campaign_id"])
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=running["bakery_manager"],
        json={"kind": "unique", "count": 1},
    )
    code = client.get(
        f"/api/v1/offers/{offer['id']}/codes", headers=running["bakery_manager"]
    ).json()["items"][0]["code"]
    made = client.post(
        "/api/v1/redemptions",
        headers=running["cafe_owner"],
        json={"business_id": str(running["cafe"].id), "code": code, "order_minor": 1000},
    )
    assert made.status_code == 201, made.text


def _webhooks(db: Session) -> list[OutboxMessage]:
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")))


def test_dns_rebinding_is_refused_at_send_time(
    app: Any,
    client: TestClient,
    db: Session,
    running: dict[str, Any],
    receiver: tuple[int, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, received = receiver
    _resolving_to(monkeypatch, "93.184.215.14")  # what the name says at registration
    made = client.post(
        f"/api/v1/businesses/{running['cafe'].id}/webhooks",
        headers=running["cafe_owner"],
        json={"url": f"https://hooks.example:{port}/in"},
    )
    assert made.status_code == 201, made.text
    _redeem_once(client, running)
    _resolving_to(monkeypatch, "127.0.0.1")  # and what it says when the worker sends
    outbox_cli.jobs()
    worker.deliver(app.state.sessions, app.state.settings)
    [message] = _webhooks(db)
    assert message.status is Status.pending and "not a public" in message.last_error
    assert received == []


def test_delivery_reads_the_secret_at_send_time_when_private_is_allowed(
    app: Any,
    client: TestClient,
    db: Session,
    running: dict[str, Any],
    receiver: tuple[int, list[Any]],
) -> None:
    from crosspromo.offers.webhooks import verify

    port, received = receiver
    app.state.settings.webhooks_allow_private = True
    made = client.post(
        f"/api/v1/businesses/{running['cafe'].id}/webhooks",
        headers=running["cafe_owner"],
        json={"url": f"http://127.0.0.1:{port}/in"},
    )
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    _redeem_once(client, running)
    [queued] = _webhooks(db)
    assert secret not in json.dumps(queued.payload)
    outbox_cli.jobs()
    worker.deliver(app.state.sessions, app.state.settings)
    [message] = _webhooks(db)
    assert message.status is Status.sent, message.last_error
    [(headers, body)] = received
    assert headers["Host"] == f"127.0.0.1:{port}"
    assert verify(secret, headers["X-Crosspromo-Signature"], body)
    assert json.loads(body)["type"] == "redemption.created"
    # A receiver with the Standard Webhooks library verifies the same delivery.
    from standardwebhooks.webhooks import Webhook

    assert Webhook(secret).verify(body, dict(headers))["type"] == "redemption.created"
    assert headers["webhook-id"] == str(message.id)


def test_the_delivery_log_and_a_redelivery_with_the_same_webhook_id(
    app: Any,
    client: TestClient,
    db: Session,
    running: dict[str, Any],
    receiver: tuple[int, list[Any]],
) -> None:
    from standardwebhooks.webhooks import Webhook

    port, received = receiver
    app.state.settings.webhooks_allow_private = True
    base = f"/api/v1/businesses/{running['cafe'].id}/webhooks"
    made = client.post(
        base, headers=running["cafe_owner"], json={"url": f"http://127.0.0.1:{port}/in"}
    ).json()
    log = f"{base}/{made['id']}/deliveries"
    _redeem_once(client, running)
    outbox_cli.jobs()
    worker.deliver(app.state.sessions, app.state.settings)
    [entry] = client.get(log, headers=running["cafe_owner"]).json()["items"]
    assert entry["status"] == "sent" and entry["event"] == "redemption.created"

    again = client.post(f"{log}/{entry['id']}/redeliver", headers=running["cafe_owner"])
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending" and again.json()["attempts"] == 0
    worker.deliver(app.state.sessions, app.state.settings)
    assert len(received) == 2
    first, second = (dict(h) for h, _ in received)
    assert first["webhook-id"] == second["webhook-id"] == entry["id"]
    Webhook(made["secret"]).verify(received[1][1], second)

    # Another business's owner sees neither the log nor the redelivery.
    other = f"/api/v1/businesses/{running['outsider'].id}/webhooks/{made['id']}/deliveries"
    assert client.get(other, headers=running["outsider_owner"]).status_code == 404
    mine_elsewhere = client.get(log, headers=running["outsider_owner"])
    assert mine_elsewhere.status_code == 404
    missing = client.post(f"{log}/{made['id']}/redeliver", headers=running["cafe_owner"])
    assert missing.status_code == 404
