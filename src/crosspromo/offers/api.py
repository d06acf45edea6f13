"""JSON API: offers and codes under campaigns; the till's validate, redeem and reverse."""

from __future__ import annotations

import io
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from slugify import slugify
from starlette.responses import JSONResponse, Response

from crosspromo import paging, spreadsheets
from crosspromo.auth import CashierBusiness, OwnerBusiness
from crosspromo.businesses import service as businesses
from crosspromo.campaigns.auth import MemberCampaign
from crosspromo.offers import flows, service, webhooks
from crosspromo.offers.auth import BusinessRedemption, MemberOffer
from crosspromo.offers.models import Code, Offer, Redemption
from crosspromo.offers.schemas import (
    CodeOut,
    CodesCreate,
    CodesCreated,
    DeliveryOut,
    OfferCreate,
    OfferOut,
    RedemptionOut,
    ReversalIn,
    Till,
    VerdictOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from crosspromo.paging import Page
from crosspromo.roles import Role
from crosspromo.web.deps import ApiActor, Db
from crosspromo.web.query import Cursor

router = APIRouter(prefix="/api/v1", tags=["offers and redemptions"])


def offer_out(offer: Offer) -> dict[str, Any]:
    return {
        "id": str(offer.id),
        "campaign_id": str(offer.campaign_id),
        "issuer_business_id": str(offer.issuer_business_id),
        "honouring_business_id": str(offer.honouring_business_id),
        "title": offer.title,
        "description": offer.description,
        "benefit": offer.benefit.value,
        "percent_bp": offer.percent_bp,
        "amount_minor": offer.amount_minor,
        "item": offer.item,
        "currency": offer.currency,
        "min_order_minor": offer.min_order_minor,
        "needs_partner_card": offer.needs_partner_card,
        "new_customers_only": offer.new_customers_only,
        "valid_from": offer.valid_from.isoformat() if offer.valid_from else None,
        "valid_until": offer.valid_until.isoformat() if offer.valid_until else None,
        "days": [d for d in range(7) if offer.days & (1 << d)],
        "hour_from": offer.hour_from,
        "hour_until": offer.hour_until,
        "total_limit": offer.total_limit,
        "per_customer_limit": offer.per_customer_limit,
        "stackable": offer.stackable,
        "reversal_minutes": offer.reversal_minutes,
        "uses": offer.uses,
    }


def code_out(code: Code, prefix: str = "") -> dict[str, Any]:
    """A code as printed: generated ones grouped after their prefix (BREAD-7KQ2-M9XP-4TRH)."""
    shown = code.code
    if code.kind.value in ("unique", "link") and code.code.startswith(prefix):
        body = code.code[len(prefix) :]
        groups = [body[i : i + 4] for i in range(0, len(body), 4)]
        shown = "-".join(([prefix] if prefix else []) + groups)
    return {
        "code": shown,
        "kind": code.kind.value,
        "uses": code.uses,
        "max_uses": code.max_uses,
        "staff_user_id": str(code.staff_user_id) if code.staff_user_id else None,
        "label": code.label,
    }


def redemption_out(redemption: Redemption) -> dict[str, Any]:
    return flows.answer(redemption)


@router.post("/campaigns/{campaign_id}/offers", status_code=201, response_model=OfferOut)
def create_offer(
    campaign: MemberCampaign, actor: ApiActor, db: Db, body: OfferCreate
) -> dict[str, Any]:
    """An offer in a campaign: who hands it out, who honours it, the benefit, the conditions."""
    offer = service.create_offer(db, actor, campaign.id, body)
    return offer_out(offer)


@router.get("/campaigns/{campaign_id}/offers", response_model=list[OfferOut])
def list_offers(campaign: MemberCampaign, db: Db) -> list[dict[str, Any]]:
    return [offer_out(o) for o in service.offers_of(db, campaign.id)]


@router.get("/offers/{offer_id}", response_model=OfferOut)
def get_offer(offer: MemberOffer) -> dict[str, Any]:
    return offer_out(offer)


@router.post("/offers/{offer_id}/codes", status_code=201, response_model=CodesCreated)
def add_codes(offer: MemberOffer, actor: ApiActor, db: Db, body: CodesCreate) -> dict[str, Any]:
    """Generate unique codes (by pattern), or add a shared code, a secret word, links."""
    made = service.add_codes(db, actor, offer.id, body)
    return {"created": made}


@router.get("/offers/{offer_id}/codes", response_model=Page[CodeOut])
def list_codes(
    offer: MemberOffer,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    cursor: Cursor = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """The offer's codes a page at a time; `format=csv` for a partner's newsletter (the next
    page's cursor in the `X-Next-Cursor` header)."""
    rows_read = service.list_codes(db, offer, limit=limit + 1, cursor=cursor)
    found, next_cursor = paging.page(rows_read, limit, service.code_key)
    rows = [code_out(c, offer.code_prefix) for c in found]
    if format == "csv":
        buffer = io.StringIO()
        writer = spreadsheets.DictWriter(buffer, ["code", "kind", "uses", "max_uses", "label"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in writer.fieldnames} for r in rows)
        name = slugify(offer.title, max_length=60) or "offer"
        headers = {"Content-Disposition": f'attachment; filename="{name}-codes.csv"'}
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        return Response(buffer.getvalue(), media_type="text/csv", headers=headers)
    return {"items": rows, "next_cursor": next_cursor}


def verdict_out(verdict: service.Verdict) -> dict[str, Any]:
    failed = verdict.failed
    return {
        "ok": verdict.ok,
        "reason": failed.detail if failed else None,
        "message": service.MESSAGES.get(failed.detail, "") if failed else "",
        "offer": offer_out(verdict.offer),
        "conditions": [
            {"name": c.name, "ok": c.ok, "reason": c.detail} for c in verdict.conditions
        ],
        "discount_minor": verdict.discount_minor,
        "currency": verdict.offer.currency,
        "uses_left": (verdict.code.max_uses - verdict.code.uses)
        if verdict.code.max_uses is not None
        else None,
    }


@router.post("/redemptions/validate", response_model=VerdictOut)
def validate(request: Request, actor: ApiActor, db: Db, body: Till) -> dict[str, Any]:
    """Check a code for an order: the offer, each condition, the benefit. No effect."""
    ctx = flows.context(request, db, actor)
    business = businesses.get(db, actor, body.business_id, need=Role.cashier)
    return verdict_out(flows.validate(ctx, business, body))


@router.post("/redemptions", status_code=201, responses={201: {"model": RedemptionOut}})
def redeem(
    request: Request,
    actor: ApiActor,
    db: Db,
    body: Till,
    idempotency_key: Annotated[
        str | None, Header(description="retry safely: same key and body, same answer")
    ] = None,
) -> Response:
    """Redeem a code for an order, exactly once; send an Idempotency-Key to retry safely."""
    ctx = flows.context(request, db, actor)
    business = businesses.get(db, actor, body.business_id, need=Role.cashier)
    done = flows.redeem(
        ctx, business, body, idempotency_key=idempotency_key, instance=request.url.path
    )
    if done.replayed:
        media = "application/problem+json" if done.status >= 400 else "application/json"
        return JSONResponse(
            done.body,
            status_code=done.status,
            media_type=media,
            headers={"Idempotent-Replayed": "true"},
        )
    return JSONResponse(done.body, status_code=done.status)


@router.post("/redemptions/{redemption_id}/reversal", status_code=201, response_model=RedemptionOut)
def reverse(
    original: BusinessRedemption, request: Request, actor: ApiActor, db: Db, body: ReversalIn
) -> dict[str, Any]:
    """Reverse a redemption within the offer's window (a refund); gives the use back once."""
    ctx = flows.context(request, db, actor)
    return flows.answer(flows.reverse(ctx, original.id, body.reason))


@router.get("/redemptions", response_model=Page[RedemptionOut])
def list_redemptions(
    actor: ApiActor,
    db: Db,
    business: CashierBusiness,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The latest redemptions and reversals at a business (`business_id` query parameter)."""
    rows = service.recent(db, actor, business.id, limit=limit + 1, cursor=cursor)
    found, following = paging.page(rows, limit, lambda r: (r.at, r.id))
    return {"items": [redemption_out(r) for r in found], "next_cursor": following}


@router.post("/businesses/{business_id}/webhooks", status_code=201, response_model=WebhookCreated)
def add_webhook(
    request: Request, business: OwnerBusiness, actor: ApiActor, db: Db, body: WebhookIn
) -> dict[str, Any]:
    """Register an endpoint for redemption.created/reversed; the secret is shown once.

    Only https URLs whose host resolves to public internet addresses are accepted.
    """
    endpoint = webhooks.add_endpoint(
        db,
        actor,
        business.id,
        body.url,
        allow_private=request.app.state.settings.webhooks_allow_private,
    )
    return {"id": str(endpoint.id), "url": endpoint.url, "secret": endpoint.secret}


@router.get("/businesses/{business_id}/webhooks", response_model=list[WebhookOut])
def list_webhooks(business: OwnerBusiness, actor: ApiActor, db: Db) -> list[dict[str, Any]]:
    return [
        {"id": str(e.id), "url": e.url, "active": e.active}
        for e in webhooks.endpoints(db, actor, business.id)
    ]


def delivery_out(message: Any) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "event": str(message.payload.get("event", "")),
        "status": message.status.value,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "response_code": message.response_code,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
        "next_attempt_at": message.next_attempt_at,
    }


@router.get(
    "/businesses/{business_id}/webhooks/{endpoint_id}/deliveries",
    response_model=Page[DeliveryOut],
)
def list_deliveries(
    business: OwnerBusiness,
    endpoint_id: uuid.UUID,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The endpoint's delivery log, newest first (`webhook-id` is the delivery's id)."""
    endpoint = webhooks.endpoint_of(db, business, endpoint_id)
    rows = webhooks.deliveries(db, endpoint, limit=limit + 1, cursor=cursor)
    found, following = paging.page(rows, limit, webhooks.delivery_key)
    return {"items": [delivery_out(m) for m in found], "next_cursor": following}


@router.post(
    "/businesses/{business_id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
)
def redeliver(
    business: OwnerBusiness, endpoint_id: uuid.UUID, delivery_id: uuid.UUID, db: Db
) -> dict[str, Any]:
    """Send a delivery again soon, with the same `webhook-id`."""
    endpoint = webhooks.endpoint_of(db, business, endpoint_id)
    return delivery_out(webhooks.redeliver(db, endpoint, delivery_id))
