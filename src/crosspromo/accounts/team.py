"""The team page of a business: people and roles, API keys (owners only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts import service
from crosspromo.accounts.pages import page
from crosspromo.auth import OwnerBusinessPage
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError
from crosspromo.roles import Role
from crosspromo.web import flash
from crosspromo.web.deps import Csrf, Db, SignedIn, WebContext, parse_uuid
from crosspromo.web.forms import PostedForm

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
