"""Loyalty pages: the till panel, the coalition dashboard with customer lookup, the card page.

The till panel's forms carry a one-time token used as the Idempotency-Key, so a double tap
or a reloaded form earns or spends once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.auth import CashierBusinessPage, ManagerBusinessPage
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import DomainError
from crosspromo.loyalty import clearing, flows, service
from crosspromo.loyalty.auth import ManagerCoalitionPage
from crosspromo.loyalty.schemas import EarnIn, ReversalIn, SpendIn
from crosspromo.web import i18n
from crosspromo.web.deps import Csrf, Db, Page, SignedIn, parse_uuid
from crosspromo.web.forms import minor_units
from crosspromo.web.i18n import N_

router = APIRouter(include_in_schema=False)

# Reasons shown at the till, by problem type (the service's English texts are the msgids).
REASONS = {kind: N_(text) for kind, text in service.REASONS.items()}


def _panel(
    request: Request, web: Any, db: Db, business: Business, status: int = 200, **ctx: Any
) -> Response:
    return page(
        request,
        web,
        "loyalty/till.html",
        status=status,
        business=business,
        coalitions=service.coalitions_of(db, business.id),
        token=str(uuid.uuid4()),
        reasons=REASONS,
        form=ctx.pop("form", {}),
        **ctx,
    )


@router.get("/b/{business_id}/loyalty")
def till(
    request: Request,
    business: CashierBusinessPage,
    web: SignedIn,
    db: Db,
    card: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """The loyalty panel of the till: find a card (or phone), see the balance, earn, spend."""
    found = None
    refusal = None
    if card:
        try:
            found = flows.balance_out(db, flows.card_at(db, business, card))
        except DomainError as exc:
            refusal = exc
    return _panel(request, web, db, business, found=found, refusal=refusal, form={"card": card})


@router.get("/b/{business_id}/loyalty/panel")
def panel(request: Request, business: CashierBusinessPage, web: SignedIn, db: Db) -> Response:
    """The small loyalty box the till page loads with htmx."""
    return page(
        request,
        web,
        "loyalty/panel.html",
        business=business,
        coalitions=service.coalitions_of(db, business.id),
    )


@router.post("/b/{business_id}/loyalty/{action}", dependencies=[Csrf])
def act(
    request: Request,
    action: str,
    business: CashierBusinessPage,
    web: SignedIn,
    db: Db,
    card: Annotated[str, Form(max_length=60)] = "",
    amount: Annotated[str, Form(max_length=30)] = "",
    points: Annotated[str, Form(max_length=12)] = "",
    receipt: Annotated[str, Form(max_length=100)] = "",
    transaction_id: Annotated[str, Form(max_length=40)] = "",
    token: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """earn, spend or reverse on the till's loyalty panel."""
    form = {"card": card, "amount": amount, "points": points, "receipt": receipt}
    coalitions = service.coalitions_of(db, business.id)
    currency = coalitions[0].currency if coalitions else business.currency
    try:
        order_minor = minor_units(amount, currency) or 0
        receipt_ref = receipt.strip() or f"till-{token[:12] or uuid.uuid4().hex[:12]}"
        run: Any
        if action == "earn":
            earn_in = EarnIn(
                business_id=business.id,
                card=card or "-",
                order_minor=order_minor,
                order_ref=receipt_ref,
            )
            run = lambda: flows.earn(db, web.actor, earn_in)  # noqa: E731
            body = earn_in.model_dump(mode="json")
        elif action == "spend":
            spend_in = SpendIn(
                business_id=business.id,
                card=card or "-",
                order_minor=order_minor,
                order_ref=receipt_ref,
                points=int(points) if points.strip() else None,
            )
            run = lambda: flows.spend(db, web.actor, spend_in)  # noqa: E731
            body = spend_in.model_dump(mode="json")
        elif action == "reverse":
            tid = parse_uuid(transaction_id)
            run = lambda: flows.reverse(db, web.actor, tid, ReversalIn())  # noqa: E731
            body = {"transaction_id": str(tid)}
        else:
            raise DomainError("No such action.", kind="not-found", status=404, title="Not found")
        _, done, replayed = flows.idempotent(
            db,
            request.app.state.sessions,
            scope=web.actor.caller,
            key=token or None,
            request=body,
            instance=request.url.path,
            run=run,
            attempt=flows.Attempt(
                action=f"loyalty_{action}"[:16],
                card=card or transaction_id,
                business_id=business.id,
                address=request.client.host if request.client else "",
            ),
        )
    except DomainError as exc:
        return _panel(request, web, db, business, status=exc.status, refusal=exc, form=form)
    except ValueError:
        refusal = DomainError("Points take a whole number.", kind="validation", status=422)
        return _panel(request, web, db, business, status=422, refusal=refusal, form=form)
    if "type" in done:  # a remembered refusal, replayed
        kind = str(done["type"]).rsplit("/", 1)[-1]
        refusal = DomainError(str(done.get("detail", "")), kind=kind, status=409)
        return _panel(request, web, db, business, status=409, refusal=refusal, form=form)
    return _panel(request, web, db, business, done=done, replayed=replayed, form={"card": card})


@router.get("/b/{business_id}/loyalty/coalitions/{coalition_id}")
def dashboard(
    request: Request,
    access: ManagerCoalitionPage,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    card: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """Members and rules, points by week, liability, who owes whom; customer lookup."""
    access.member(business.id)
    coalition = access.coalition
    now = utcnow()
    members = service.members(db, coalition.id)
    names = {
        b.id: b
        for b in db.query(Business).filter(Business.id.in_([m.business_id for m in members]))
    }
    statement = clearing.statement(db, coalition, coalition.created_at, now + timedelta(days=1))
    lookup: dict[str, Any] | None = None
    refusal = None
    if card:
        try:
            found = service.find_card(db, card, region=business.country)
            if found.coalition_id != coalition.id:
                raise service.Refused("card-other-coalition")
            moves = service.lot_moves(db, found)
            lookup = {
                "card": found,
                "number": service.display_number(found.number),
                "balance": flows.balance_out(db, found),
                "history": service.history(db, found),
                "moves": moves,
            }
        except DomainError as exc:
            refusal = exc
    return page(
        request,
        web,
        "loyalty/dashboard.html",
        business=business,
        coalition=coalition,
        members=members,
        names=names,
        weeks=clearing.weekly(db, coalition, now - timedelta(weeks=12)),
        positions=clearing.positions(db, coalition),
        statement=statement,
        lookup=lookup,
        refusal=refusal,
        form={"card": card},
    )


@router.get("/loyalty/join/{coalition_id}")
def join_form(
    request: Request,
    coalition_id: str,
    web: Page,
    db: Db,
    b: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The public sign-up page of a coalition's card, in the visitor's language."""
    coalition = service.get_coalition(db, parse_uuid(coalition_id))
    return page(request, web, "loyalty/join.html", coalition=coalition, via=b, form={})


@router.post("/loyalty/join/{coalition_id}", dependencies=[Csrf])
def join(
    request: Request,
    coalition_id: str,
    web: Page,
    db: Db,
    phone: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    consent: Annotated[str, Form(max_length=5)] = "",
    marketing: Annotated[str, Form(max_length=5)] = "",
    via: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Enrol with consent (marketing consent separate); then the card's own page."""
    coalition = service.get_coalition(db, parse_uuid(coalition_id))
    members = [m for m in service.members(db, coalition.id) if m.status.value == "active"]
    business_id = next((m.business_id for m in members if str(m.business_id) == via), None)
    business = db.get(Business, business_id or coalition.founder_business_id)
    try:
        card, token = service.enrol(
            db,
            coalition=coalition,
            business=business,
            consent=consent == "on",
            phone=phone,
            email=email,
            marketing_consent=marketing == "on",
            locale=i18n.pick_locale(request, None),
        )
    except DomainError as exc:
        form = {"phone": phone, "email": email, "marketing": marketing}
        return page(
            request,
            web,
            "loyalty/join.html",
            status=exc.status,
            coalition=coalition,
            via=via,
            form=form,
            refusal=exc,
        )
    return RedirectResponse(f"/loyalty/c/{token}", status_code=303)


@router.get("/loyalty/c/{token}")
def card_page(request: Request, token: str, web: Page, db: Db) -> Response:
    """The customer's phone page: the card with its QR code, balance, lots and expiry."""
    if not 10 <= len(token) <= 64:
        raise service.Refused("card-unknown", status=404)
    card = service.card_by_link(db, token)
    coalition = service.get_coalition(db, card.coalition_id)
    number = service.display_number(card.number)
    import segno  # loaded when used: start-up stays light

    qr = segno.make(number, error="m").svg_inline(scale=6, border=2)
    return page(
        request,
        web,
        "loyalty/card.html",
        card=card,
        coalition=coalition,
        number=number,
        qr=qr,
        balance=flows.balance_out(db, card),
    )
