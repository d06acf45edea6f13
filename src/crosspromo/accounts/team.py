"""The team page of a business: people and roles, invitation links, API keys (owners only);
and the page where an invited person joins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts import service
from crosspromo.accounts.pages import LAST_BUSINESS_COOKIE, page
from crosspromo.auth import OwnerBusinessPage
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError
from crosspromo.roles import Role
from crosspromo.web import flash
from crosspromo.web.deps import SESSION_COOKIE, Csrf, Db, Page, SignedIn, WebContext, parse_uuid
from crosspromo.web.forms import PostedForm
from crosspromo.web.i18n import pick_locale, translations

router = APIRouter(include_in_schema=False)


def N_(text: str) -> str:
    """Marks a string for the catalogue; the template translates it."""
    return text


ROLE_NAMES = (N_("owner"), N_("manager"), N_("cashier"))


def _render(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    status: int = 200,
    error: str | None = None,
    new_key: str | None = None,
    new_link: str | None = None,
) -> Response:
    return page(
        request,
        web,
        "accounts/team.html",
        status=status,
        business=business,
        people=service.members(db, workspace_id=business.workspace_id),
        keys=service.list_api_keys(db, business_id=business.id),
        roles=list(Role),
        error=error,
        new_key=new_key,
        new_link=new_link,
        invitations=service.invitations(db, workspace_id=business.workspace_id),
    )


@router.get("/b/{business_id}/team")
def team(request: Request, business: OwnerBusinessPage, web: SignedIn, db: Db) -> Response:
    return _render(request, web, db, business)


@router.post("/b/{business_id}/team/members", dependencies=[Csrf])
def add_member(
    request: Request, business: OwnerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    try:
        role = Role(str(form.get("role", "")))
        service.add_member(
            db,
            workspace_id=business.workspace_id,
            email=str(form.get("email", "")),
            role=role,
            password=str(form.get("password", "")),
        )
    except ValueError:
        return _render(request, web, db, business, 422, error="Choose a role.")
    except DomainError as exc:
        db.rollback()
        return _render(request, web, db, business, 422, error=exc.detail)
    return flash.redirect(
        f"/b/{business.id}/team", "%(email)s was added.", email=str(form.get("email", ""))
    )


@router.post("/b/{business_id}/team/members/{user_id}/remove", dependencies=[Csrf])
def remove_member(
    request: Request, business: OwnerBusinessPage, user_id: str, web: SignedIn, db: Db
) -> Response:
    try:
        service.remove_member(
            db,
            workspace_id=business.workspace_id,
            user_id=parse_uuid(user_id),
            by_user_id=web.actor.user_id,
        )
    except DomainError as exc:
        db.rollback()
        return _render(request, web, db, business, 409, error=exc.detail)
    return RedirectResponse(f"/b/{business.id}/team", status_code=303)


@router.post("/b/{business_id}/team/keys", dependencies=[Csrf])
def create_key(
    request: Request, business: OwnerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    try:
        role = Role(str(form.get("role", "cashier")))
    except ValueError:
        return _render(request, web, db, business, 422, error="Choose a role.")
    token, _ = service.create_api_key(
        db, business_id=business.id, role=role, name=str(form.get("name", ""))[:200]
    )
    return _render(request, web, db, business, new_key=token)


@router.post("/b/{business_id}/team/keys/{key_id}/revoke", dependencies=[Csrf])
def revoke_key(
    request: Request, business: OwnerBusinessPage, key_id: str, web: SignedIn, db: Db
) -> Response:
    service.revoke_api_key(db, business_id=business.id, key_id=parse_uuid(key_id))
    return RedirectResponse(f"/b/{business.id}/team", status_code=303)


@router.post("/b/{business_id}/team/invitations", dependencies=[Csrf])
def create_invitation(
    request: Request, business: OwnerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    """A single-use link to join with a role: no password to invent and pass on."""
    try:
        role = Role(str(form.get("role", "cashier")))
        token, row = service.invite(
            db,
            workspace_id=business.workspace_id,
            business_id=business.id,
            role=role,
            email=str(form.get("email", "")),
            by_user_id=web.actor.user_id,
        )
    except ValueError:
        return _render(request, web, db, business, 422, error=_t(request, "Choose a role."))
    except DomainError as exc:
        db.rollback()
        return _render(request, web, db, business, 422, error=_t(request, exc.detail))
    link = service.invitation_link(request.app.state.settings.public_url, token)
    service.mail_invitation(db, row, link=link, team=business.name)
    return _render(request, web, db, business, new_link=link)


@router.post("/b/{business_id}/team/invitations/{invitation_id}/revoke", dependencies=[Csrf])
def revoke_invitation(
    request: Request, business: OwnerBusinessPage, invitation_id: str, web: SignedIn, db: Db
) -> Response:
    service.revoke_invitation(
        db, workspace_id=business.workspace_id, invitation_id=parse_uuid(invitation_id)
    )
    return flash.redirect(f"/b/{business.id}/team", N_("The invitation link was withdrawn."))


def _t(request: Request, text: str) -> str:
    return translations(pick_locale(request)).gettext(text)


def _join_page(
    request: Request, web: WebContext, db: Db, token: str, status: int = 200, **extra: Any
) -> Response:
    try:
        invitation = service.invitation_for_token(db, token)
    except DomainError as exc:
        return page(request, web, "accounts/join.html", status=exc.status, problem=exc.detail)
    business = db.get(Business, invitation.business_id)
    return page(
        request,
        web,
        "accounts/join.html",
        status=status,
        invitation=invitation,
        team=business.name if business else "",
        token=token,
        **extra,
    )


@router.get("/join/{token}")
def join_form(request: Request, token: str, web: Page, db: Db) -> Response:
    """The page an invited person opens: who invites, with which role; join or sign up."""
    return _join_page(request, web, db, token)


@router.post("/join/{token}", dependencies=[Csrf])
def join(request: Request, token: str, web: Page, db: Db, form: PostedForm) -> Response:
    """Join the team: as the signed-in person, or with a new account made here."""
    settings = request.app.state.settings
    user = web.user
    new_token: str | None = None
    if user is None:
        email = str(form.get("email", ""))
        try:
            user = service.create_user(
                db, email=email, password=str(form.get("password", "")), name=""
            )
        except DomainError as exc:
            db.rollback()
            return _join_page(
                request, web, db, token, 422, error=_t(request, exc.detail), email=email
            )
        new_token, _ = service.start_session(db, user=user, days=settings.session_days)
    try:
        invitation = service.join(db, token=token, user=user)
    except DomainError as exc:
        db.rollback()
        return _join_page(request, web, db, token, exc.status, error=_t(request, exc.detail))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        LAST_BUSINESS_COOKIE, str(invitation.business_id), httponly=True, samesite="lax"
    )
    if new_token is not None:
        response.set_cookie(
            SESSION_COOKIE,
            new_token,
            httponly=True,
            samesite="lax",
            max_age=settings.session_days * 86400,
            secure=settings.secure_cookies,
        )
    return response
