"""JSON API: offers and codes under campaigns; the till's validate, redeem and reverse."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import JSONResponse, Response

from crosspromo import spreadsheets
from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.businesses import service as businesses
from crosspromo.campaigns import service as campaigns
from crosspromo.errors import DomainError
from crosspromo.offers import audit, codes, idempotency, service, throttle, webhooks
from crosspromo.offers.models import Code, Offer, Redemption
from crosspromo.offers.schemas import CodesCreate, OfferCreate, ReversalIn, Till, WebhookIn
from crosspromo.web.deps import ApiActor, Db, parse_uuid
from crosspromo.web.problems import PROBLEM_BASE

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
    return webhooks.redemption_data(redemption) | {"reason": redemption.reason}


@router.post("/campaigns/{campaign_id}/offers", status_code=201)
def create_offer(campaign_id: str, actor: ApiActor, db: Db, body: OfferCreate) -> dict[str, Any]:
    """An offer in a campaign: who hands it out, who honours it, the benefit, the conditions."""
    offer = service.create_offer(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return offer_out(offer)


@router.get("/campaigns/{campaign_id}/offers")
def list_offers(campaign_id: str, actor: ApiActor, db: Db) -> list[dict[str, Any]]:
    campaign, _ = campaigns.get(db, actor, parse_uuid(campaign_id))
    return [offer_out(o) for o in service.offers_of(db, campaign.id)]


@router.get("/offers/{offer_id}")
def get_offer(offer_id: str, actor: ApiActor, db: Db) -> dict[str, Any]:
    return offer_out(service.get_offer(db, actor, parse_uuid(offer_id)))


@router.post("/offers/{offer_id}/codes", status_code=201)
def add_codes(offer_id: str, actor: ApiActor, db: Db, body: CodesCreate) -> dict[str, Any]:
    """Generate unique codes (by pattern), or add a shared code, a secret word, links."""
    made = service.add_codes(db, actor, parse_uuid(offer_id), body)
    db.commit()
    return {"created": made}


@router.get("/offers/{offer_id}/codes")
def list_codes(
    offer_id: str,
    actor: ApiActor,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    cursor: Annotated[str, Query(description="the last code of the previous page")] = "",
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """The offer's codes a page at a time; `format=csv` for a partner's newsletter."""
    offer = service.get_offer(db, actor, parse_uuid(offer_id))
    found = service.list_codes(db, offer, limit=limit, after=codes.normalize(cursor))
    rows = [code_out(c, offer.code_prefix) for c in found]
    next_cursor = found[-1].code if len(found) == limit else None
    if format == "csv":
        buffer = io.StringIO()
        writer = spreadsheets.DictWriter(buffer, ["code", "kind", "uses", "max_uses", "label"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in writer.fieldnames} for r in rows)
        headers = {"Content-Disposition": f'attachment; filename="codes-{offer.id}.csv"'}
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        return Response(buffer.getvalue(), media_type="text/csv", headers=headers)
    return {"items": rows, "next_cursor": next_cursor}


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _limit(request: Request, actor: Actor) -> None:
    settings = request.app.state.settings
    uri = settings.rate_limit_storage
    throttle.hit(uri, settings.till_rate_limit, actor.caller)
    throttle.hit(uri, settings.till_rate_limit_per_address, "addr", _address(request))


def _problem_body(exc: DomainError, request: Request) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.kind,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": request.url.path,
    }
    if exc.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    return body | exc.extensions


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


@router.post("/redemptions/validate")
def validate(request: Request, actor: ApiActor, db: Db, body: Till) -> dict[str, Any]:
    """Check a code for an order: the offer, each condition, the benefit. No effect."""
    _limit(request, actor)
    business = businesses.get(db, actor, body.business_id, need=Role.cashier)
    outcome = "ok"
    try:
        verdict = service.check(db, business, body, secret_key=request.app.state.secret_key)
        outcome = "ok" if verdict.ok else (verdict.failed.detail if verdict.failed else "ok")
        return verdict_out(verdict)
    except DomainError as exc:
        outcome = exc.kind
        raise
    finally:
        db.rollback()
        audit.record(
            db,
            action="validate",
            code=codes.normalize(body.code),
            outcome=outcome,
            caller=actor.caller,
            address=_address(request),
            business_id=business.id,
        )


@router.post("/redemptions", status_code=201)
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
    _limit(request, actor)
    business = businesses.get(db, actor, body.business_id, need=Role.cashier)
    digest = idempotency.body_hash(body.model_dump(mode="json"))
    scope = actor.caller
    code_text = codes.normalize(body.code)
    if idempotency_key is not None:
        stored = idempotency.begin(db, scope, idempotency_key, digest)
        if stored is not None:
            db.rollback()
            status, answer = stored
            media = "application/problem+json" if status >= 400 else "application/json"
            return JSONResponse(
                answer,
                status_code=status,
                media_type=media,
                headers={"Idempotent-Replayed": "true"},
            )
    try:
        redemption = service.redeem(
            db,
            actor,
            body,
            secret_key=request.app.state.secret_key,
            cashier_user_id=actor.user_id,
        )
    except DomainError as exc:
        db.rollback()
        if idempotency_key is not None:
            idempotency.remember_refusal(
                db, scope, idempotency_key, digest, exc.status, _problem_body(exc, request)
            )
            db.commit()
        audit.record(
            db,
            action="redeem",
            code=code_text,
            outcome=exc.kind,
            caller=scope,
            address=_address(request),
            business_id=business.id,
        )
        raise
    answer = redemption_out(redemption)
    if idempotency_key is not None:
        idempotency.finish(db, scope, idempotency_key, 201, answer)
    # The audit row commits with the redemption: one transaction per redemption, not two
    # (on SQLite each commit takes the database's write lock; bench/redemption_http.py).
    audit.record(
        db,
        action="redeem",
        code=code_text,
        outcome="ok",
        caller=scope,
        address=_address(request),
        business_id=business.id,
        redemption_id=redemption.id,
    )
    return JSONResponse(answer, status_code=201)


@router.post("/redemptions/{redemption_id}/reversal", status_code=201)
def reverse(
    redemption_id: str, request: Request, actor: ApiActor, db: Db, body: ReversalIn
) -> dict[str, Any]:
    """Reverse a redemption within the offer's window (a refund); gives the use back once."""
    rid = parse_uuid(redemption_id)
    original = service.get_redemption(db, actor, rid)
    business_id = original.business_id
    try:
        reversal = service.reverse(db, actor, rid, body.reason, cashier_user_id=actor.user_id)
        db.commit()
    except DomainError as exc:
        db.rollback()
        audit.record(
            db,
            action="reverse",
            code=str(rid),
            outcome=exc.kind,
            caller=actor.caller,
            address=_address(request),
            business_id=business_id,
        )
        raise
    except Exception as exc:  # the unique reverses_id refused a simultaneous second reversal
        from sqlalchemy.exc import IntegrityError

        db.rollback()
        if isinstance(exc, IntegrityError):
            raise service.Refused(
                "already-reversed", "This redemption was already reversed.", status=409
            ) from None
        raise
    audit.record(
        db,
        action="reverse",
        code=str(rid),
        outcome="ok",
        caller=actor.caller,
        address=_address(request),
        business_id=business_id,
        redemption_id=reversal.id,
    )
    return redemption_out(reversal)


@router.get("/redemptions")
def list_redemptions(
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The latest redemptions and reversals at a business."""
    found = service.recent(db, actor, parse_uuid(business_id), limit=limit)
    return {"items": [redemption_out(r) for r in found]}


@router.post("/businesses/{business_id}/webhooks", status_code=201)
def add_webhook(
    request: Request, business_id: str, actor: ApiActor, db: Db, body: WebhookIn
) -> dict[str, Any]:
    """Register an endpoint for redemption.created/reversed; the secret is shown once.

    Only https URLs whose host resolves to public internet addresses are accepted.
    """
    endpoint = webhooks.add_endpoint(
        db,
        actor,
        parse_uuid(business_id),
        body.url,
        allow_private=request.app.state.settings.webhooks_allow_private,
    )
    db.commit()
    return {"id": str(endpoint.id), "url": endpoint.url, "secret": endpoint.secret}


@router.get("/businesses/{business_id}/webhooks")
def list_webhooks(business_id: str, actor: ApiActor, db: Db) -> list[dict[str, Any]]:
    return [
        {"id": str(e.id), "url": e.url, "active": e.active}
        for e in webhooks.endpoints(db, actor, parse_uuid(business_id))
    ]
