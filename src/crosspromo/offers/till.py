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
from crosspromo.offers import flows, service
from crosspromo.offers.schemas import Till
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid
from crosspromo.web.forms import PostedForm, minor_units
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


def _replayed_refusal(body: dict[str, Any]) -> DomainError:
    """A refusal stored for the confirm token, shown again for a repeated tap."""
    return DomainError(
        str(body.get("detail", "")),
        kind=str(body.get("type", "")).rsplit("/", 1)[-1] or "conflict",
        status=int(body.get("status", 409)),
        title=str(body.get("title", "Conflict")),
    )


@router.post("/b/{business_id}/till/{action}", dependencies=[Csrf])
def act(
    request: Request,
    business: CashierBusinessPage,
    action: str,
    web: SignedIn,
    db: Db,
    posted: PostedForm,
) -> Response:
    """check, redeem or reverse, all on the one till screen (the API's flow, offers.flows)."""
    form = {k: str(v) for k, v in posted.items() if k != "csrf_token"}
    ctx = flows.context(request, db, web.actor)
    try:
        if action == "reverse":
            reason = form.get("reason", "") or "refund at the till"
            reversal = flows.reverse(ctx, parse_uuid(form.get("redemption_id", "")), reason)
            return _render(request, web, business, reversed=reversal)
        data = _form(form, business.id, business.currency)
        if action == "check":
            verdict = flows.validate(ctx, business, data)
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
            done = flows.redeem(
                ctx,
                business,
                data,
                idempotency_key=form.get("token", "") or str(uuid.uuid4()),
                instance=request.url.path,
            )
            if done.status >= 400:
                raise _replayed_refusal(done.body)
            redeemed = done.redemption or service.get_redemption(
                db, web.actor, uuid.UUID(str(done.body["id"]))
            )
            return _render(request, web, business, redeemed=redeemed, replayed=done.replayed)
        raise DomainError("Unknown action.", kind="not-found", status=404, title="Not found")
    except ValidationError as exc:
        db.rollback()
        errors = [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
        return _render(request, web, business, 422, form=form, errors=errors)
    except DomainError as exc:
        # The flow rolled back and audited the refusal; the page shows no half-written state.
        db.rollback()
        return _render(request, web, business, exc.status, form=form, refusal=exc, kind=exc.kind)
