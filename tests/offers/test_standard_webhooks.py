"""Deliveries verify with the `standardwebhooks` library, as any receiver would check them."""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from crosspromo.offers import webhooks


def _delivery(secret: str, message_id: str, body: bytes) -> dict[str, str]:
    return webhooks.headers_for(secret, message_id, body, int(time.time()))


def test_a_new_secret_is_standard_and_its_deliveries_verify() -> None:
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    body = json.dumps({"id": "m-1", "type": "redemption.created", "data": {"x": 1}}).encode()
    headers = _delivery(secret, "m-1", body)
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    # The old header still verifies, for receivers not yet moved over.
    assert webhooks.verify(secret, headers["X-Crosspromo-Signature"], body)


def test_a_tampered_body_another_id_or_another_secret_is_refused() -> None:
    secret = webhooks.new_secret()
    body = b'{"id": "m-2", "type": "redemption.created"}'
    headers = _delivery(secret, "m-2", body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"m-2", b"m-3"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers | {"webhook-id": "m-3"})
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(body, headers)


def test_a_delivery_signed_long_ago_is_refused_by_the_receiver() -> None:
    secret = webhooks.new_secret()
    body = b"{}"
    old = webhooks.headers_for(secret, "m-4", body, int(time.time()) - 3600)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, old)


@settings(max_examples=30, deadline=None)
@given(raw=st.binary(min_size=24, max_size=24))
def test_secrets_made_before_the_switch_verify_when_the_library_reads_them(raw: bytes) -> None:
    secret = "whsec_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    body = b'{"id": "m-5"}'
    headers = _delivery(secret, "m-5", body)
    assert webhooks.verify(secret, headers["X-Crosspromo-Signature"], body)
    try:
        receiver = Webhook(secret)
    except Exception:  # the library cannot read this one: the old header is the way
        return
    assert receiver.verify(body, headers) == {"id": "m-5"}
