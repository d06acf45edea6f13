"""The till page: a cashier types or scans a code, sees the verdict, confirms, may reverse.

One screen, phone-sized. Confirming carries a one-time token from the check, used as the
Idempotency-Key of the redemption, so a double tap or a reloaded form redeems once.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.auth import CashierBusinessPage
from crosspromo.errors import DomainError
from crosspromo.offers import audit, codes, idempotency, service, throttle
from crosspromo.offers.schemas import Till
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid
from crosspromo.web.forms import minor_units
from crosspromo.web.i18n import N_

router = APIRouter(include_in_schema=False)

CONDITIONS = {
    "campaign": N_("The campaign is running"),
    "valid_from": N_("Already valid"),
    "valid_until": N_("Not expired"),
    "day": N_("Valid today"),
    "hours": N_("Valid at this hour"),
    "min_order": N_("Order reaches the minimum"),
    "partner_card": N_("Partner's card shown"),
    "code_uses": N_("Code not used yet"),
    "total_limit": N_("Offer not used up"),
    "customer": N_("Customer's phone or e-mail given"),
    "new_customer": N_("A new customer"),
    "per_customer": N_("Within the customer's limit"),
    "stacking": N_("No other offer on this receipt"),
}


def _form(form: dict[str, str], business_id: uuid.UUID, currency: str) -> Till:
    return Till(
        business_id=business_id,
        code=form.get("code", "").strip() or "-",
        order_minor=minor_units(form.get("amount", ""), currency) or 0,
        customer=form.get("customer", ""),
        partner_card_shown=form.get("card") == "on",
        order_ref=form.get("receipt", ""),
    )


def _render(request: Request, web: Any, business: Any, status: int = 200, **ctx: Any) -> Response:
    return page(
        request,
        web,
        "offers/till.html",
        status=status,
        business=business,
        conditions=CONDITIONS,
        form=ctx.pop("form", {}),
        **ctx,
    )


@router.get("/b/{business_id}/till")
def till(request: Request, business: CashierBusinessPage, web: SignedIn, db: Db) -> Response:
    recent = service.recent(db, web.actor, business.id, limit=5)
    return _render(request, web, business, recent=recent)


@router.get("/b/{business_id}/till/{action}")
def till_again(business: CashierBusinessPage, web: SignedIn, db: Db) -> Response:
    """A page that answered a till form, opened again (a language switch, a reload): the till."""
    return RedirectResponse(f"/b/{business.id}/till", status_code=303)


def _limit(request: Request, caller: str) -> None:
    settings = request.app.state.settings
    throttle.hit(settings.rate_limit_storage, settings.till_rate_limit, caller)


@router.post("/b/{business_id}/till/{action}", dependencies=[Csrf])
async def act(
    request: Request, business: CashierBusinessPage, action: str, web: SignedIn, db: Db
) -> Response:
    """check, redeem or reverse, all on the one till screen."""
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    caller = web.actor.caller
    address = request.client.host if request.client else ""
    secret = request.app.state.secret_key
    try:
        _limit(request, caller)
        if action == "reverse":
            reversal = service.reverse(
                db,
                web.actor,
                parse_uuid(form.get("redemption_id", "")),
                form.get("reason", "") or "refund at the till",
                cashier_user_id=web.actor.user_id,
            )
            db.commit()
            audit.record(
                db,
                action="reverse",
                code=form.get("redemption_id", ""),
                outcome="ok",
                caller=caller,
                address=address,
                business_id=business.id,
                redemption_id=reversal.id,
            )
            return _render(request, web, business, reversed=reversal)
        data = _form(form, business.id, business.currency)
        if action == "check":
            verdict = service.check(db, business, data, secret_key=secret)
            db.rollback()
            audit.record(
                db,
                action="validate",
                code=codes.normalize(data.code),
                outcome="ok" if verdict.ok else (verdict.failed.detail if verdict.failed else ""),
                caller=caller,
                address=address,
                business_id=business.id,
            )
            return _render(
                request,
                web,
                business,
                form=form,
                verdict=verdict,
                messages=service.MESSAGES,
                token=str(uuid.uuid4()),
            )
        if action == "redeem":
            token = form.get("token", "") or str(uuid.uuid4())
            digest = idempotency.body_hash(data.model_dump(mode="json"))
            stored = idempotency.begin(db, caller, token, digest)
            if stored is not None and stored[0] == 201:
                db.rollback()
                done = service.get_redemption(db, web.actor, uuid.UUID(stored[1]["id"]))
                return _render(request, web, business, redeemed=done, replayed=True)
            redemption = service.redeem(
                db, web.actor, data, secret_key=secret, cashier_user_id=web.actor.user_id
            )
            idempotency.finish(db, caller, token, 201, {"id": str(redemption.id)})
            db.commit()
            audit.record(
                db,
                action="redeem",
                code=codes.normalize(data.code),
                outcome="ok",
                caller=caller,
                address=address,
                business_id=business.id,
                redemption_id=redemption.id,
            )
            return _render(request, web, business, redeemed=redemption)
        raise DomainError("Unknown action.", kind="not-found", status=404, title="Not found")
    except ValidationError as exc:
        db.rollback()
        errors = [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
        return _render(request, web, business, 422, form=form, errors=errors)
    except DomainError as exc:
        db.rollback()
        if action in ("redeem", "reverse", "check"):
            audit.record(
                db,
                action={"check": "validate"}.get(action, action),
                code=codes.normalize(form.get("code", form.get("redemption_id", ""))),
                outcome=exc.kind,
                caller=caller,
                address=address,
                business_id=business.id,
            )
        return _render(request, web, business, exc.status, form=form, refusal=exc, kind=exc.kind)
