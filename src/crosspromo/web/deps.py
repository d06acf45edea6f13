"""Request dependencies: database session, who is asking, CSRF."""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import User, UserSession
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError, NotFound, Unauthorized
from crosspromo.notifications import service as notifications
from crosspromo.replica import route_to_replica
from crosspromo.roles import Actor
from crosspromo.web.fresh_reads import FRESH_COOKIE, READ_ONLY

SESSION_COOKIE = "cp_session"
ANON_CSRF_COOKIE = "cp_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class CsrfFailed(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "The form expired or came from another site. Reload the page and try again.",
            kind="csrf",
            status=403,
            title="Forbidden",
        )


class SignInRequired(Exception):
    """Raised by page dependencies; the handler redirects to the sign-in page."""


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work: commits when the handler returns, rolls back on any error.

    Handlers and services never call commit(); a write that must survive a refusal (an audit
    row) uses its own short `unit_of_work`, visibly. `Db` runs this with scope="function" so
    the commit happens before the response is sent: a failed commit answers 500 instead of a
    success already on the wire, and a redirect after POST always finds its data.
    """
    with request.app.state.sessions() as session:
        if request.method in READ_ONLY and FRESH_COOKIE not in request.cookies:
            route_to_replica(session, request.app.state.replica)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


Db = Annotated[Session, Depends(get_db, scope="function")]


@dataclass
class WebContext:
    """What every page needs: the user, their session, businesses for the switcher."""

    user: User | None = None
    user_session: UserSession | None = None
    actor: Actor = field(default_factory=Actor)
    businesses: list[Business] = field(default_factory=list)
    csrf_token: str = ""
    new_anon_csrf: str | None = None
    # Plain copies for the page shell: error pages render after a rollback expired the rows.
    email: str = ""
    user_locale: str | None = None
    switcher: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    unread: int = 0


def _load(request: Request, db: Session) -> WebContext:
    web = WebContext()
    token = request.cookies.get(SESSION_COOKIE)
    row = accounts.session_for_token(db, token) if token else None
    if row is not None:
        web.user = db.get(User, row.user_id)
        web.user_session = row
        web.actor = accounts.actor_for_user(db, row.user_id)
        web.businesses = businesses.list_for(db, web.actor, limit=200)
        web.csrf_token = row.csrf_token
        if web.user is not None:
            web.email, web.user_locale = web.user.email, web.user.locale
        web.switcher = [(b.id, b.name) for b in web.businesses]
        web.unread = notifications.unread(db, row.user_id)
    else:
        anon = request.cookies.get(ANON_CSRF_COOKIE)
        if not anon:
            anon = secrets.token_urlsafe(32)
            web.new_anon_csrf = anon
        web.csrf_token = anon
    request.state.web = web
    return web


def web_context(request: Request, db: Db) -> WebContext:
    return _load(request, db)


def signed_in(request: Request, db: Db) -> WebContext:
    web = _load(request, db)
    if web.user is None:
        raise SignInRequired()
    return web


Page = Annotated[WebContext, Depends(web_context)]


async def check_csrf(request: Request, web: Page) -> None:
    """Forms send csrf_token, htmx sends the X-CSRF-Token header; both must match."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if "form" in content_type:
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    # A fresh anonymous token was never given to a form, so nothing can match it.
    expected = "" if web.new_anon_csrf is not None else web.csrf_token
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


SignedIn = Annotated[WebContext, Depends(signed_in)]
Csrf = Depends(check_csrf)


def api_actor(request: Request, db: Db) -> Actor:
    """Bearer API key, or the browser's session cookie (then unsafe methods need CSRF)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send the API key as 'Authorization: Bearer <key>'.")
        return accounts.actor_for_api_key(db, token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    row = accounts.session_for_token(db, cookie) if cookie else None
    if row is None:
        raise Unauthorized()
    if request.method in UNSAFE:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, row.csrf_token):
            raise CsrfFailed()
    return accounts.actor_for_user(db, row.user_id)


ApiActor = Annotated[Actor, Depends(api_actor)]


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such item.") from None
