"""Signed webhooks for cash-register systems, delivered through the outbox.

Each delivery is a POST of JSON signed per the Standard Webhooks specification
(https://www.standardwebhooks.com), so any receiver verifies it with a stock library:
`webhook-id` (the outbox message's id, the same on every retry and redelivery, so a receiver
drops repeats), `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64>`, the
HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with the base64-decoded part of the endpoint's
`whsec_` secret.

The previous scheme is sent too, for one release: `X-Crosspromo-Signature: t=<t>,v1=<hex>`
(HMAC-SHA256 of "<t>.<body>" with the whole secret as text) and `X-Crosspromo-Delivery`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from crosspromo import outbound
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import Invalid, NotFound
from crosspromo.offers.models import Redemption, WebhookEndpoint
from crosspromo.outbox import service as outbox
from crosspromo.outbox.senders import NotConfigured
from crosspromo.roles import Actor, Role
from crosspromo.settings import Settings


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret, decoded exactly as the `standardwebhooks` library
    does (characters outside standard base64 skipped), so its receivers verify even a secret
    made before the switch (URL-safe base64); one that library cannot read at all is decoded
    as URL-safe base64."""
    text = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(text + "==")
    except binascii.Error:
        return base64.urlsafe_b64decode(text + "==")


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: "v1," and the base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 24 random bytes in standard base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def headers_for(secret: str, message_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Every signature header of one delivery: the standard ones and, for one release, ours."""
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, message_id, timestamp, body),
        "X-Crosspromo-Signature": sign(secret, timestamp, body),
        "X-Crosspromo-Delivery": message_id,
    }


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def add_endpoint(
    session: Session,
    actor: Actor,
    business_id: uuid.UUID,
    url: str,
    *,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """Register a URL for the business's events; the secret is shown once to the owner."""
    business = businesses.get(session, actor, business_id, need=Role.owner)
    try:
        outbound.resolve(url, allow_private=allow_private)
    except outbound.UnsafeTarget as exc:
        raise Invalid(f"This webhook URL is refused: {exc}.", field="url") from None
    endpoint = WebhookEndpoint(business_id=business.id, url=url, secret=new_secret())
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoints_of(session: Session, business: Business) -> list[WebhookEndpoint]:
    """The endpoints of a business the route has checked, oldest first."""
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.business_id == business.id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def endpoints(session: Session, actor: Actor, business_id: uuid.UUID) -> list[WebhookEndpoint]:
    business = businesses.get(session, actor, business_id, need=Role.owner)
    return list(
        session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.business_id == business.id))
    )


def endpoint_of(session: Session, business: Business, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """One endpoint of a business the caller owns (checked by the route); NotFound otherwise."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.business_id != business.id:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def _prefix(endpoint: WebhookEndpoint) -> str:
    # Every delivery's outbox key starts so (`announce`): an indexed prefix, no JSON look-up.
    return f"webhook:{endpoint.id}:"


def deliveries(
    session: Session, endpoint: WebhookEndpoint, *, limit: int = 50, cursor: str | None = None
) -> list[Any]:
    """The endpoint's delivery log, newest first: status, attempts, last error, sent time."""
    return outbox.keyed(session, "webhook", _prefix(endpoint), limit=limit, cursor=cursor)


def delivery_key(message: Any) -> tuple[Any, ...]:
    return outbox.page_key(message)


def redeliver(session: Session, endpoint: WebhookEndpoint, message_id: uuid.UUID) -> Any:
    """Send a delivery again soon, with the same `webhook-id` (receivers drop repeats)."""
    message = outbox.requeue(session, "webhook", _prefix(endpoint), message_id)
    if message is None:
        raise NotFound("No such delivery.")
    return message


def redemption_data(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": str(redemption.id),
        "offer_id": str(redemption.offer_id),
        "business_id": str(redemption.business_id),
        "referrer_business_id": str(redemption.referrer_business_id),
        "order_minor": redemption.order_minor,
        "discount_minor": redemption.discount_minor,
        "currency": redemption.currency,
        "order_ref": redemption.order_ref,
        "reverses_id": str(redemption.reverses_id) if redemption.reverses_id else None,
        "at": redemption.at.isoformat(),
    }


_ACTIVE = select(WebhookEndpoint.id).where(
    WebhookEndpoint.business_id == bindparam("business"), WebhookEndpoint.active.is_(True)
)


def active_endpoints(session: Session, business_id: uuid.UUID) -> list[uuid.UUID]:
    """The ids of the business's active endpoints."""
    return list(session.scalars(_ACTIVE, {"business": business_id}))


def announce(
    session: Session,
    event: str,
    redemption: Redemption,
    endpoint_ids: list[uuid.UUID] | None = None,
) -> None:
    """Queue the event for every active endpoint of the honouring business (same transaction);
    `endpoint_ids` when the caller already read them (`active_endpoints`)."""
    if endpoint_ids is None:
        endpoint_ids = active_endpoints(session, redemption.business_id)
    data = redemption_data(redemption)
    for endpoint_id in endpoint_ids:
        # Only the endpoint's id: the secret and URL are read when sending, so the outbox
        # never holds a secret and a changed or disabled endpoint is honoured.
        outbox.enqueue(
            session,
            kind="webhook",
            key=f"webhook:{endpoint_id}:{event}:{redemption.id}",
            payload={"endpoint_id": str(endpoint_id), "event": event, "data": data},
        )


def prepare(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """The worker's step before sending: the endpoint's current URL and secret, in memory."""
    if "endpoint_id" not in payload:  # queued before the secret left the outbox
        return payload
    endpoint = session.get(WebhookEndpoint, uuid.UUID(payload["endpoint_id"]))
    if endpoint is None or not endpoint.active:
        raise NotConfigured("the webhook endpoint was removed or disabled")
    return payload | {"url": endpoint.url, "secret": endpoint.secret}


def send(settings: Settings, message_id: str, payload: dict[str, Any]) -> int:
    """The outbox sender: one signed POST; any non-2xx answer is retried with backoff.
    Its HTTP status goes to the delivery log.

    The target is checked again here, against the address actually connected to.
    """
    body = json.dumps(
        {"id": message_id, "type": payload["event"], "data": payload["data"]}, sort_keys=True
    ).encode()
    headers = headers_for(payload["secret"], message_id, body, int(time.time()))
    response = outbound.post(
        payload["url"],
        content=body,
        headers=headers,
        allow_private=settings.webhooks_allow_private,
    )
    response.raise_for_status()
    return response.status_code


def announce_event(
    session: Session, business_id: uuid.UUID, event: str, key: str, data: dict[str, Any]
) -> None:
    """Queue any event (e.g. loyalty.earned) for the business's active endpoints."""
    for endpoint_id in active_endpoints(session, business_id):
        outbox.enqueue(
            session,
            kind="webhook",
            key=f"webhook:{endpoint_id}:{event}:{key}",
            payload={"endpoint_id": str(endpoint_id), "event": event, "data": data},
        )
