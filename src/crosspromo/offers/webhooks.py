"""Signed webhooks for cash-register systems, delivered through the outbox.

Each delivery is a POST of JSON with `X-Crosspromo-Signature: t=<unix time>,v1=<hex>`, where
v1 is HMAC-SHA256 of "<t>.<body>" with the endpoint's secret (the scheme Stripe uses), and
`X-Crosspromo-Delivery`, the outbox id, so a receiver can drop a repeated delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo import outbound
from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.businesses import service as businesses
from crosspromo.errors import Invalid
from crosspromo.offers.models import Redemption, WebhookEndpoint
from crosspromo.outbox import service as outbox
from crosspromo.outbox.senders import NotConfigured
from crosspromo.settings import Settings


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


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
    endpoint = WebhookEndpoint(
        business_id=business.id, url=url, secret="whsec_" + secrets.token_urlsafe(24)
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoints(session: Session, actor: Actor, business_id: uuid.UUID) -> list[WebhookEndpoint]:
    business = businesses.get(session, actor, business_id, need=Role.owner)
    return list(
        session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.business_id == business.id))
    )


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


def announce(session: Session, event: str, redemption: Redemption) -> None:
    """Queue the event for every active endpoint of the honouring business (same transaction)."""
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.business_id == redemption.business_id,
            WebhookEndpoint.active.is_(True),
        )
    ):
        # Only the endpoint's id: the secret and URL are read when sending, so the outbox
        # never holds a secret and a changed or disabled endpoint is honoured.
        outbox.enqueue(
            session,
            kind="webhook",
            key=f"webhook:{endpoint.id}:{event}:{redemption.id}",
            payload={
                "endpoint_id": str(endpoint.id),
                "event": event,
                "data": redemption_data(redemption),
            },
        )


def prepare(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """The worker's step before sending: the endpoint's current URL and secret, in memory."""
    if "endpoint_id" not in payload:  # queued before the secret left the outbox
        return payload
    endpoint = session.get(WebhookEndpoint, uuid.UUID(payload["endpoint_id"]))
    if endpoint is None or not endpoint.active:
        raise NotConfigured("the webhook endpoint was removed or disabled")
    return payload | {"url": endpoint.url, "secret": endpoint.secret}


def send(settings: Settings, message_id: str, payload: dict[str, Any]) -> None:
    """The outbox sender: one signed POST; any non-2xx answer is retried with backoff.

    The target is checked again here, against the address actually connected to.
    """
    body = json.dumps(
        {"id": message_id, "type": payload["event"], "data": payload["data"]}, sort_keys=True
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Crosspromo-Signature": sign(payload["secret"], int(time.time()), body),
        "X-Crosspromo-Delivery": message_id,
    }
    response = outbound.post(
        payload["url"],
        content=body,
        headers=headers,
        allow_private=settings.webhooks_allow_private,
    )
    response.raise_for_status()
