"""Loyalty pages: the till panel, the coalition dashboard with customer lookup, the card page.

The till panel's forms carry a one-time token used as the Idempotency-Key, so a double tap
or a reloaded form earns or spends once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.auth import CashierBusinessPage, ManagerBusinessPage
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import DomainError
from crosspromo.loyalty import clearing, flows, service
from crosspromo.loyalty.auth import ManagerCoalitionPage
from crosspromo.loyalty.schemas import CardIn, CardSheetIn, EarnIn, ReversalIn, SpendIn
from crosspromo.settings import get_settings
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


def _replayed(answer: dict[str, Any]) -> DomainError | None:
    """A refusal remembered under the form's one-time token, as the error it was."""
    if "type" not in answer:
        return None
    kind = str(answer["type"]).rsplit("/", 1)[-1]
    return DomainError(str(answer.get("detail", "")), kind=kind, status=409)


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
        not_whole = DomainError("Points take a whole number.", kind="validation", status=422)
        return _panel(request, web, db, business, status=422, refusal=not_whole, form=form)
    refusal = _replayed(done)
    if refusal is not None:
        return _panel(request, web, db, business, status=409, refusal=refusal, form=form)
    return _panel(request, web, db, business, done=done, replayed=replayed, form={"card": card})


def _qr_svg(text: str) -> str:
    import segno  # loaded when used: start-up stays light

    return str(segno.make(text, error="m").svg_inline(scale=6, border=2))


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.post("/b/{business_id}/loyalty/cards/activation", dependencies=[Csrf])
def activation(
    request: Request,
    business: CashierBusinessPage,
    web: SignedIn,
    db: Db,
    card: Annotated[str, Form(max_length=60)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    consent: Annotated[str, Form(max_length=5)] = "",
    marketing: Annotated[str, Form(max_length=5)] = "",
    locale: Annotated[str, Form(max_length=2)] = "",
    token: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Activate a printed blank card handed out at this till, with the holder's consent."""
    form = {"card": card, "phone": phone, "email": email, "marketing": marketing}
    found = None
    try:
        found = service.find_card(db, card or "-", region=business.country)
        data = CardIn(
            coalition_id=found.coalition_id,
            business_id=business.id,
            card=card,
            phone=phone,
            email=email,
            consent=consent == "on",
            marketing_consent=marketing == "on",
            locale=locale if locale in ("en", "ru") else i18n.pick_locale(request, None),
        )
        _, activated, _ = flows.idempotent(
            db,
            request.app.state.sessions,
            scope=web.actor.caller,
            key=token or None,
            request=data.model_dump(mode="json"),
            instance=request.url.path,
            run=lambda: flows.enrol(db, web.actor, data),
            attempt=flows.Attempt("loyalty_enrol", card, business.id),
        )
    except DomainError as exc:
        # The form again, as typed, unless the card itself was refused.
        shown = flows.balance_out(db, found) if found is not None else None
        return _panel(
            request, web, db, business, status=exc.status, refusal=exc, form=form, found=shown
        )
    refusal = _replayed(activated)
    if refusal is not None:
        return _panel(request, web, db, business, status=409, refusal=refusal, form=form)
    link = get_settings().public_url.rstrip("/") + activated["link"]
    return _panel(
        request,
        web,
        db,
        business,
        activated=activated,
        link=link,
        link_qr=_qr_svg(link),
        form={"card": activated["card"]},
    )


@router.post("/b/{business_id}/loyalty/coalitions/{coalition_id}/cards", dependencies=[Csrf])
def print_cards(
    request: Request,
    coalition_id: str,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    count: Annotated[int, Form(ge=1, le=service.MAX_BLANK_CARDS)] = 10,
    locale: Annotated[str, Form(pattern="^(en|ru)$")] = "en",
    token: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """New blank numbered cards on A4 sheets, for the member to print and hand out."""
    data = CardSheetIn(business_id=business.id, count=count, locale=locale)
    cid = parse_uuid(coalition_id)
    _, printed, _ = flows.idempotent(
        db,
        request.app.state.sessions,
        scope=web.actor.caller,
        key=token or None,
        request=data.model_dump(mode="json"),
        instance=request.url.path,
        run=lambda: flows.print_cards(db, web.actor, cid, data),
    )
    refusal = _replayed(printed)
    if refusal is not None:
        raise refusal
    return _pdf(flows.cards_pdf(db, printed), f"cards-{count}")


@router.get("/b/{business_id}/loyalty/coalitions/{coalition_id}/cards/{card}.pdf")
def print_card(
    coalition_id: str,
    business: ManagerBusinessPage,
    db: Db,
    card: Annotated[str, Path(max_length=60)],
    lang: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> Response:
    """One customer's card (support lookup), front and back at its real size."""
    coalition = service.coalition_for(db, business, parse_uuid(coalition_id))
    found = service.find_card(db, card, region=business.country)
    if found.coalition_id != coalition.id:
        raise service.Refused("card-other-coalition")
    return _pdf(flows.card_pdf(db, found, lang), f"card-{found.number}")


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
        print_token=str(uuid.uuid4()),
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
    return page(
        request,
        web,
        "loyalty/card.html",
        card=card,
        coalition=coalition,
        number=number,
        qr=_qr_svg(number),
        token=token,
        balance=flows.balance_out(db, card),
    )


@router.get("/loyalty/c/{token}/card.pdf")
def card_page_pdf(
    request: Request,
    token: str,
    db: Db,
    lang: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> Response:
    """The customer's own card to print, front and back at its real size."""
    if not 10 <= len(token) <= 64:
        raise service.Refused("card-unknown", status=404)
    card = service.card_by_link(db, token)
    return _pdf(flows.card_pdf(db, card, lang), f"card-{card.number}")
