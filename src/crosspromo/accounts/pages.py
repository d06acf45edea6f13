"""Sign-in, sign-up, sign-out, password change, language switch."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts import service
from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.businesses.schemas import BusinessCreate
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, DomainError
from crosspromo.offers.throttle import RateLimited, hit, refuse_if_spent
from crosspromo.outbox import service as outbox
from crosspromo.web.deps import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    Csrf,
    Db,
    Page,
    SignedIn,
    WebContext,
)
from crosspromo.web.i18n import LOCALE_COOKIE, LOCALES
from crosspromo.web.problems import KINDS
from crosspromo.web.templating import render

router = APIRouter(include_in_schema=False)
LAST_BUSINESS_COOKIE = "cp_business"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths, so a sign-in link cannot bounce a user to another site."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def page(
    request: Request, web: WebContext, template: str, status: int = 200, **ctx: object
) -> Response:
    business = ctx.get("business")
    if business is not None and "current_business_id" not in ctx:
        ctx["current_business_id"] = getattr(business, "id", None)  # the switcher shows it
    response = render(request, template, status_code=status, **ctx)
    if web.user is not None and isinstance(ctx.get("current_business_id"), uuid.UUID):
        # Sign-in and "/" come back to the business last worked on, not the first by name.
        response.set_cookie(
            LAST_BUSINESS_COOKIE,
            str(ctx["current_business_id"]),
            httponly=True,
            samesite="lax",
            max_age=365 * 86400,
            secure=request.app.state.settings.secure_cookies,
        )
    if web.new_anon_csrf:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            web.new_anon_csrf,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.secure_cookies,
        )
    return response


def _signed_in_response(request: Request, token: str, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=request.app.state.settings.session_days * 86400,
        secure=request.app.state.settings.secure_cookies,
    )
    return response


def landing(web: WebContext, last: str | None) -> str:
    """Where a signed-in person starts: the business last used; a cashier at its till."""
    if not web.businesses:
        return "/businesses/new"
    chosen = next((b for b in web.businesses if str(b.id) == last), web.businesses[0])
    role = web.actor.role_for(chosen.workspace_id, chosen.id)
    if role is not None and not role.at_least(Role.manager):
        return f"/b/{chosen.id}/till"
    return f"/b/{chosen.id}"


@router.get("/")
def index(request: Request, web: Page) -> Response:
    if web.user is None:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(
        landing(web, request.cookies.get(LAST_BUSINESS_COOKIE)), status_code=303
    )


@router.get("/switch")
def switch(web: SignedIn, business: str = "") -> Response:
    """The business switcher without JavaScript: open the chosen business where one starts."""
    chosen = next((b for b in web.businesses if str(b.id) == business), None)
    if chosen is None:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(landing(web, str(chosen.id)), status_code=303)


@router.get("/signin")
def signin_form(request: Request, web: Page, next: str | None = None) -> Response:
    return page(request, web, "accounts/signin.html", next=safe_next(next), email="", error=None)


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _too_many(
    request: Request, web: WebContext, template: str, exc: RateLimited, **ctx: object
) -> Response:
    """The form again with 429 and Retry-After: a person reads when to retry."""
    seconds = int(exc.extensions["retry_after"])
    response = page(request, web, template, status=429, retry_after=seconds, **ctx)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/signin", dependencies=[Csrf])
def signin(
    request: Request,
    web: Page,
    db: Db,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    # Failed attempts are counted per account and per address and checked before the
    # (deliberately slow) password hash: online guessing and CPU exhaustion stop there.
    settings = request.app.state.settings
    storage = settings.rate_limit_storage
    account = ("signin-account", email.strip().lower())
    address = ("signin-address", _address(request))
    form = {"next": safe_next(next), "email": email}
    try:
        refuse_if_spent(storage, settings.signin_failures_per_account, *account)
        refuse_if_spent(storage, settings.signin_failures_per_address, *address)
    except RateLimited as exc:
        return _too_many(request, web, "accounts/signin.html", exc, error=None, **form)
    try:
        user = service.authenticate(db, email=email, password=password)
    except DomainError as exc:
        try:
            hit(storage, settings.signin_failures_per_account, *account)
            hit(storage, settings.signin_failures_per_address, *address)
        except RateLimited:
            pass  # this failure used up the allowance; the next attempt is refused
        return page(request, web, "accounts/signin.html", status=401, error=exc.detail, **form)
    token, _ = service.start_session(db, user=user, days=settings.session_days)
    db.commit()
    return _signed_in_response(request, token, safe_next(next))


@router.get("/signup")
def signup_form(request: Request, web: Page, next: str = "") -> Response:
    return page(request, web, "accounts/signup.html", form={"next": next}, errors={})


def _notify_existing_owner(request: Request, db: Db, email: str) -> None:
    """Sign-up with a taken address: its owner hears of it by e-mail; the page says nothing."""
    link = f"{request.app.state.settings.public_url.rstrip('/')}/signin"
    outbox.enqueue(
        db,
        kind="email",
        key=f"signup-taken:{email}:{utcnow().strftime('%Y-%m-%d')}",
        payload={
            "to": email,
            "subject": "Someone tried to create a crosspromo account with your address",
            "text": "Someone tried to create a new crosspromo account with this e-mail "
            "address, which already has an account. If it was you, sign in instead: "
            f"{link}\nIf it was not you, you can ignore this message.\n\n"
            "Кто-то пытался создать новую учётную запись crosspromo с этим адресом, "
            f"у которого уже есть учётная запись. Если это были вы, войдите: {link}",
        },
    )


@router.get("/signup/sent")
def signup_sent(request: Request, web: Page) -> Response:
    return page(request, web, "accounts/signup_sent.html")


@router.post("/signup", dependencies=[Csrf])
def signup(
    request: Request,
    web: Page,
    db: Db,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    business_name: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "email": email,
        "name": name,
        "business_name": business_name,
        "category": category,
        "next": next,
    }
    settings = request.app.state.settings
    storage = settings.rate_limit_storage
    try:
        hit(storage, settings.signup_rate_limit_per_address, "signup-address", _address(request))
        hit(storage, settings.signup_rate_limit_per_email, "signup-email", email.strip().lower())
    except RateLimited as exc:
        return _too_many(request, web, "accounts/signup.html", exc, form=form, errors={})
    errors: dict[str, str] = {}
    try:
        data = BusinessCreate(name=business_name, category=category)
    except ValidationError as exc:
        for err in exc.errors():
            field = "business_name" if err["loc"][0] == "name" else str(err["loc"][0])
            errors[field] = err["msg"].removeprefix("Value error, ")
        data = None
    taken = False
    try:
        user = service.create_user(db, email=email, password=password, name=name)
    except Conflict:
        taken = True  # said to nobody but the address's owner
        service.hash_password(password)  # and as slow as a new account
    except DomainError as exc:
        errors[exc.field or "email"] = exc.detail
    if errors or data is None:
        db.rollback()
        return page(request, web, "accounts/signup.html", status=422, form=form, errors=errors)
    if taken:
        _notify_existing_owner(request, db, email.strip().lower())
        return RedirectResponse("/signup/sent", status_code=303)
    workspace = service.create_workspace(db, name=business_name, owner=user)
    business = businesses.create(db, workspace_id=workspace.id, data=data)
    token, _ = service.start_session(db, user=user, days=settings.session_days)
    db.commit()
    return _signed_in_response(request, token, safe_next(next, f"/b/{business.id}/profile"))


@router.post("/signout", dependencies=[Csrf])
def signout(request: Request, web: Page, db: Db) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(db, token)
        db.commit()
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password")
def password_form(request: Request, web: SignedIn) -> Response:
    return page(request, web, "accounts/password.html", errors={}, done=False)


@router.post("/account/password", dependencies=[Csrf])
def password_change(
    request: Request,
    web: SignedIn,
    db: Db,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    assert web.user is not None
    try:
        service.change_password(db, user=web.user, current=current_password, new=new_password)
    except DomainError as exc:
        db.rollback()
        return page(
            request,
            web,
            "accounts/password.html",
            status=422,
            errors={exc.field or "new_password": exc.detail},
            done=False,
        )
    token, _ = service.start_session(
        db, user=web.user, days=request.app.state.settings.session_days
    )
    db.commit()
    return _signed_in_response(request, token, "/account/password?done=1")


@router.get("/locale/{code}")
def switch_locale(request: Request, code: str, next: str | None = None) -> Response:
    """The language switch: a cookie, so it also works before signing in."""
    target = safe_next(
        next or request.headers.get("referer", "/").replace(str(request.base_url), "/")
    )
    response = RedirectResponse(target, status_code=303)
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/problems/{kind}")
def problem_type(request: Request, web: Page, kind: str) -> Response:
    """Human documentation for each problem+json `type`."""
    if kind not in KINDS:
        kind = "not-found"
    return page(request, web, "error.html", code=None, title=kind, detail=KINDS[kind], errors=[])
