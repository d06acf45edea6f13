"""A business's message pages: contacts and consents at a glance, the message editor with a
preview in both languages and a test send, each message's results."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.errors import DomainError, NotFound
from crosspromo.identifiers import IdentifierError, normalize_email
from crosspromo.messaging import audiences, flows, service
from crosspromo.messaging.models import Channel
from crosspromo.outbox import service as outbox
from crosspromo.web import flash
from crosspromo.web.deps import Csrf, Db, SignedIn
from crosspromo.web.forms import PostedForm

router = APIRouter(include_in_schema=False)
PARTS = ("subject", "text", "html")


def _message_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such message.") from None


def _content(form: Any) -> dict[str, dict[str, str]]:
    """The languages the editor filled in (a language left blank is left out)."""
    content = {}
    for locale in ("en", "ru"):
        parts = {p: str(form.get(f"{locale}_{p}", ""))[:500_000] for p in PARTS}
        if any(v.strip() for v in parts.values()):
            content[locale] = parts
    return content


def _audience(form: Any) -> uuid.UUID | None:
    """The audience chosen in the editor (blank: every consenting contact)."""
    try:
        return uuid.UUID(str(form.get("audience_id", ""))) if form.get("audience_id") else None
    except ValueError:
        return None


def _audiences(db: Session, business_id: uuid.UUID) -> list[Any]:
    return audiences.page(db, business_id=business_id, cursor=None, limit=200)[0]


def _channel(form: Any) -> Channel:
    try:
        return Channel(str(form.get("channel", "email")))
    except ValueError:
        return Channel.email


def _overview(db: Session, business_id: uuid.UUID) -> dict[str, Any]:
    items, _ = service.page(db, business_id=business_id, cursor=None, limit=50)
    return {
        "items": items,
        "results": {m.id: service.stats(db, m) for m in items},
        "audience": service.audience(db, business_id=business_id),
    }


@router.get("/b/{business_id}/messages")
def messages_page(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db
) -> Response:
    return page(
        request, web, "messaging/messages.html", business=business, **_overview(db, business.id)
    )


@router.get("/b/{business_id}/messages/new")
def editor(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
    return page(
        request,
        web,
        "messaging/editor.html",
        business=business,
        form={},
        error="",
        shown=None,
        audiences=_audiences(db, business.id),
    )


@router.post("/b/{business_id}/messages/preview", dependencies=[Csrf])
def preview(
    request: Request, business: ManagerBusinessPage, web: SignedIn, form: PostedForm
) -> Response:
    """The htmx preview: each language filled in for a sample contact, or what is wrong."""
    try:
        shown = flows.preview(
            _channel(form), _content(form), business.name, request.app.state.settings.public_url
        )
        error = ""
    except DomainError as exc:
        shown, error = None, f"{exc.field + ': ' if exc.field else ''}{exc.detail}"
    return page(request, web, "messaging/_preview.html", shown=shown, error=error)


@router.post("/b/{business_id}/messages", dependencies=[Csrf])
def save(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    try:
        made = service.create(
            db,
            business_id=business.id,
            sender_name=business.name,
            channel=_channel(form),
            content=_content(form),
            audience_id=_audience(form),
        )
    except DomainError as exc:
        error = f"{exc.field + ': ' if exc.field else ''}{exc.detail}"
        return page(
            request,
            web,
            "messaging/editor.html",
            status=422,
            business=business,
            form=dict(form),
            error=error,
            shown=None,
            audiences=_audiences(db, business.id),
        )
    return flash.redirect(f"/b/{business.id}/messages/{made.id}", "Message saved.")


@router.get("/b/{business_id}/messages/{message_id}")
def message_page(
    request: Request, business: ManagerBusinessPage, message_id: str, web: SignedIn, db: Db
) -> Response:
    found = service.get(db, business_id=business.id, broadcast_id=_message_id(message_id))
    shown = flows.preview(
        found.channel, found.content, business.name, request.app.state.settings.public_url
    )
    return page(
        request,
        web,
        "messaging/message.html",
        business=business,
        message=found,
        results=service.stats(db, found),
        shown=shown,
    )


@router.post("/b/{business_id}/messages/{message_id}/send", dependencies=[Csrf])
def send(
    request: Request, business: ManagerBusinessPage, message_id: str, web: SignedIn, db: Db
) -> Response:
    url = f"/b/{business.id}/messages/{message_id}"
    # Another business's message is a 404, as on every id route, not a flashed refusal.
    service.get(db, business_id=business.id, broadcast_id=_message_id(message_id))
    try:
        count = flows.send(
            db,
            request.app.state.settings,
            business_id=business.id,
            broadcast_id=_message_id(message_id),
        )
    except DomainError as exc:
        return flash.redirect(url, exc.detail, error=True)
    return flash.redirect(url, "Queued to %(n)s contacts.", n=count)


@router.post("/b/{business_id}/messages/{message_id}/test", dependencies=[Csrf])
def test_send(
    request: Request,
    business: ManagerBusinessPage,
    message_id: str,
    web: SignedIn,
    db: Db,
    form: PostedForm,
) -> Response:
    """The message as a sample contact would get it, by e-mail to the address given."""
    url = f"/b/{business.id}/messages/{message_id}"
    found = service.get(db, business_id=business.id, broadcast_id=_message_id(message_id))
    try:
        to = normalize_email(str(form.get("to", ""))[:254])
    except IdentifierError:
        return flash.redirect(url, "Give an e-mail address for the test.", error=True)
    shown = flows.preview(
        found.channel, found.content, business.name, request.app.state.settings.public_url
    )
    for locale, parts in shown.items():
        outbox.enqueue(
            db,
            kind="email",
            key=f"message-test:{found.id}:{locale}:{to}:{uuid.uuid4()}",
            payload={
                "to": to,
                "subject": f"[test {locale}] {parts.get('subject') or business.name}",
                "text": parts["text"],
            },
        )
    return flash.redirect(url, "Test sent to %(to)s.", to=to)
