"""The webhooks page: each endpoint's delivery log (status, attempts, response code, last
error) and a Redeliver button that queues the same delivery again; managers and owners only."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.outbox import cli as outbox_cli
from crosspromo.outbox import worker
from crosspromo.outbox.models import OutboxMessage, Status
from tests.conftest import PASSWORD, sign_in
from tests.offers.test_webhook_targets import _Receiver, _redeem_once


class _Unavailable(_Receiver):
    """A receiver that answers 503 to the first delivery and 204 afterwards."""

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(503 if len(self.received) == 1 else 204)
        self.end_headers()


@pytest.fixture
def flaky() -> Iterator[tuple[int, list[Any]]]:
    received: list[Any] = []
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), type("H", (_Unavailable,), {"received": received})
    )
    Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def _deliver(app: Any) -> None:
    outbox_cli.jobs()
    worker.deliver(app.state.sessions, app.state.settings)


def test_the_log_shows_the_answer_and_redeliver_sends_the_same_delivery_again(
    app: Any,
    client: TestClient,
    db: Session,
    running: dict[str, Any],
    flaky: tuple[int, list[Any]],
) -> None:
    port, received = flaky
    app.state.settings.webhooks_allow_private = True
    cafe = running["cafe"]
    made = client.post(
        f"/api/v1/businesses/{cafe.id}/webhooks",
        headers=running["cafe_owner"],
        json={"url": f"http://127.0.0.1:{port}/in"},
    ).json()
    _redeem_once(client, running)
    _deliver(app)
    [message] = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).all()
    assert message.status is Status.pending and message.response_code == 503

    csrf = sign_in(client, "b@example.com")  # the cafe's owner
    overview = client.get(f"/b/{cafe.id}/webhooks")
    assert overview.status_code == 200, overview.text
    assert f'href="/b/{cafe.id}/webhooks"' in overview.text  # in the business's sections
    assert f"http://127.0.0.1:{port}/in" in overview.text
    row = overview.text.split(f'data-delivery="{message.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="pending"' in row and "redemption.created" in row
    assert '<td class="response-code">503</td>' in row and "503 Service Unavailable" in row
    assert made["secret"] not in overview.text

    action = f"/b/{cafe.id}/webhooks/{made['id']}/deliveries/{message.id}/redeliver"
    forged = client.post(action, data={"csrf_token": "nope"}, follow_redirects=False)
    assert forged.status_code == 403
    again = client.post(action, data={"csrf_token": csrf}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith(made["id"])
    _deliver(app)
    assert len(received) == 2
    assert received[0][0]["webhook-id"] == received[1][0]["webhook-id"] == str(message.id)

    log = client.get(again.headers["location"])
    assert log.status_code == 200
    row = log.text.split(f'data-delivery="{message.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="sent"' in row and '<td class="response-code">204</td>' in row
    api = client.get(
        f"/api/v1/businesses/{cafe.id}/webhooks/{made['id']}/deliveries",
        headers=running["cafe_owner"],
    ).json()["items"]
    assert [(d["status"], d["response_code"]) for d in api] == [("sent", 204)]

    russian = client.get(f"/b/{cafe.id}/webhooks", headers={"Accept-Language": "ru"})
    assert "Отправить снова" in russian.text and "Доставлено" in russian.text


def test_only_managers_and_owners_of_the_business_see_it(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    cafe, outsider = running["cafe"], running["outsider"]
    made = client.post(
        f"/api/v1/businesses/{cafe.id}/webhooks",
        headers=running["cafe_owner"],
        json={"url": "https://93.184.215.14/hook"},
    ).json()
    accounts.add_member(
        db,
        workspace_id=cafe.workspace_id,
        email="till@example.com",
        role=Role.cashier,
        password=PASSWORD,
    )
    db.commit()
    sign_in(client, "till@example.com")
    assert client.get(f"/b/{cafe.id}/webhooks").status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, "c@example.com")  # owns another business only
    assert client.get(f"/b/{cafe.id}/webhooks").status_code == 404
    assert client.get(f"/b/{cafe.id}/webhooks/{made['id']}").status_code == 404
    # Their own business has no such endpoint either.
    assert client.get(f"/b/{outsider.id}/webhooks/{made['id']}").status_code == 404
    action = f"/b/{outsider.id}/webhooks/{made['id']}/deliveries/{made['id']}/redeliver"
    assert client.post(action, data={"csrf_token": csrf}).status_code == 404
    empty = client.get(f"/b/{outsider.id}/webhooks")
    assert empty.status_code == 200 and "No webhook endpoints yet" in empty.text
