"""The public preferences page and RFC 8058 one-click unsubscribe, in the contact's language."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.errors import Invalid, NotFound
from crosspromo.identifiers import identifier_hash
from crosspromo.messaging import contacts, service
from crosspromo.messaging.models import Channel, Contact
from crosspromo.offers import referrals
from crosspromo.web.deps import Csrf, Db, Page, WebContext
from crosspromo.web.i18n import N_, pick_locale, translations

router = APIRouter(include_in_schema=False)
WORDING = N_("I agree to receive news and offers on the channels I ticked.")


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise Invalid("Use email, sms or telegram.", field="channel") from None


def _show(request: Request, web: WebContext, contact: Contact, *, done: bool) -> Response:
    # The contact's own language unless the visitor chose one with the language switch.
    request.state.web = dataclasses.replace(web, user_locale=web.user_locale or contact.locale)
    reachable = [c for c in Channel if contacts.address(contact, c)]
    return page(
        request,
        request.state.web,
        "messaging/preferences.html",
        contact=contact,
        channels=reachable,
        consent={c: getattr(contact, contacts.CONSENT_FIELD[c]) for c in reachable},
        done=done,
    )


@router.get("/u/{token}")
def preferences(request: Request, token: str, web: Page, db: Db) -> Response:
    return _show(request, web, contacts.by_token(db, token), done=False)


@router.get("/u/{token}/unsubscribe")
def confirm(request: Request, token: str, web: Page, db: Db) -> Response:
    """A link scanner may open this: it only shows the page, unsubscribing takes a POST."""
    return _show(request, web, contacts.by_token(db, token), done=False)


@router.post("/u/{token}/unsubscribe")
def one_click(request: Request, token: str, web: Page, db: Db, channel: str = "email") -> Response:
    """RFC 8058: the mailbox's own button POSTs `List-Unsubscribe=One-Click` here, with no
    cookie and no form token; the secret token in the URL is the authority."""
    contact = contacts.unsubscribe(
        db, token, channel=_channel(channel), source="one-click unsubscribe"
    )
    return _show(request, web, contact, done=True)


@router.post("/u/{token}", dependencies=[Csrf])
def save(
    request: Request,
    token: str,
    web: Page,
    db: Db,
    email: Annotated[str, Form(max_length=3)] = "",
    sms: Annotated[str, Form(max_length=3)] = "",
    telegram: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """The preferences form: withdrawing is always possible; granting keeps the words shown."""
    contact = contacts.by_token(db, token)
    # The evidence is the sentence the page showed, in the language it was shown in.
    locale = pick_locale(request, contact.locale)
    wording = translations(locale).gettext(WORDING) if locale != "en" else WORDING
    chosen = {Channel.email: email, Channel.sms: sms, Channel.telegram: telegram}
    for channel, value in chosen.items():
        if not contacts.address(contact, channel):
            continue
        wanted = value == "on"
        if wanted != getattr(contact, contacts.CONSENT_FIELD[channel]):
            contacts.record_consent(
                db,
                contact,
                channel=channel,
                granted=wanted,
                source="preferences page",
                wording=wording if wanted else "",
            )
    return _show(request, web, contact, done=True)


@router.get("/m/{token}/{link}")
def follow(
    request: Request, token: str, link: Annotated[int, Path(ge=0, le=10_000)], db: Db
) -> Response:
    """A recipient's tracking link: log the click (the visitor's address as a keyed hash) and
    send them on to the target the business wrote."""
    address = request.client.host if request.client else ""
    target = service.click(
        db,
        token=token,
        link=link,
        visitor_hash=identifier_hash("visitor", address, request.app.state.secret_key),
    )
    return RedirectResponse(target, status_code=302)


@router.get("/r/{token}/embed")
def success_block(request: Request, token: str, web: Page, db: Db) -> Response:
    """The success-page block a partner frames on its order-confirmation page: the offer and a
    button to its referral link, where the visit is logged like any referral click."""
    try:
        link = referrals.find(db, token)
    except NotFound:
        return Response(status_code=404)
    url = str(request.base_url).rstrip("/") + f"/r/{link.display}"
    return page(request, web, "messaging/success_block.html", link=link, url=url)
