"""Pages: the dashboard of a business, its profile form, the category picker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo import locale_input
from crosspromo.accounts import service as accounts
from crosspromo.accounts.pages import page
from crosspromo.auth import CashierBusinessPage, ManagerBusinessPage
from crosspromo.businesses import categories, service
from crosspromo.businesses.schemas import BusinessCreate, BusinessUpdate
from crosspromo.customers import service as customers
from crosspromo.errors import DomainError, Invalid
from crosspromo.measurement import dashboard as sales_charts
from crosspromo.roles import Role
from crosspromo.sales import service as sales
from crosspromo.web.deps import Csrf, Db, Page, SignedIn
from crosspromo.web.forms import PostedForm
from crosspromo.web.i18n import pick_locale

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = (
    "name",
    "category",
    "address",
    "city",
    "phone",
    "email",
    "website",
    "description",
    "currency",
    "country",
    "timezone",
)
INT_FIELDS = (
    "price_tier",
    "customers_per_month",
    "newsletter_subscribers",
    "social_followers",
    "site_visitors_per_month",
)
FLOAT_FIELDS = ("lat", "lon")
FLAGS = ("online_only", "open_to_partnerships", "allow_overlap_discovery")


def major_to_minor(text: str, currency: str) -> int:
    """'1 350,50' or '1 350,50 ₽' -> 135050 for RUB; exact (crosspromo.locale_input)."""
    return locale_input.parse_money(text, currency)


def form_to_fields(form: dict[str, Any], currency: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Read the profile form into API-shaped fields, collecting per-field errors."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in TEXT_FIELDS:
        if key in form:
            data[key] = str(form[key]).strip()
    for key in INT_FIELDS:
        raw = "".join(str(form.get(key, "")).split())  # '1 200' with any space between groups
        if key in form:
            try:
                data[key] = int(raw) if raw else None
            except ValueError:
                errors[key] = "not a whole number"
    for key in FLOAT_FIELDS:
        raw = str(form.get(key, "")).strip()
        if key in form:
            try:
                data[key] = float(locale_input.parse_number(raw)) if raw else None
            except ValueError:
                errors[key] = "not a number"
    if "avg_check" in form:
        raw = str(form["avg_check"]).strip()
        try:
            data["avg_check_minor"] = (
                major_to_minor(raw, data.get("currency") or currency) if raw else None
            )
        except ValueError as exc:
            errors["avg_check"] = str(exc)
    if form.get("date_only_receipts"):
        data["date_only_receipts"] = str(form["date_only_receipts"])
    if "tags" in form:
        data["tags"] = [t.strip() for t in str(form["tags"]).split(",") if t.strip()]
    if "flags_present" in form:
        for key in FLAGS:
            data[key] = key in form
    return data, errors


@router.get("/b/{business_id}")
def dashboard(request: Request, business: CashierBusinessPage, web: SignedIn, db: Db) -> Response:
    role = service.role_in(web.actor, business)
    if role is not None and not role.at_least(Role.manager):
        # A cashier's day is the till; revenue figures are for managers and owners.
        return RedirectResponse(f"/b/{business.id}/till", status_code=303)
    locale = pick_locale(request, web.user_locale)
    category = categories.get(business.category)
    customer_count, consented = customers.count(db, business_id=business.id)
    return page(
        request,
        web,
        "businesses/dashboard.html",
        business=business,
        category_name=category.name(locale) if category else business.category,
        role=role,
        customer_count=customer_count,
        consented=consented,
        totals=sales.totals(db, business_id=business.id),
        sales_chart=sales_charts.sales_chart(db, business, locale=locale),
        top=sales.top_products(db, business_id=business.id),
    )


@router.get("/b/{business_id}/customers")
def customers_page(
    request: Request,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    q: str = "",
    after: str = "",
) -> Response:
    rows = customers.page(db, business_id=business.id, query=q[:100], after=after or None)
    total, consented = customers.count(db, business_id=business.id)
    return page(
        request,
        web,
        "businesses/customers.html",
        business=business,
        rows=rows,
        q=q,
        total=total,
        consented=consented,
        next_after=rows[-1].external_id if len(rows) == 50 else None,
    )


@router.get("/b/{business_id}/profile")
def profile_form(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db
) -> Response:
    return page(
        request,
        web,
        "businesses/profile.html",
        business=business,
        form=None,
        errors={},
        saved=request.query_params.get("saved") == "1",
        category=categories.get(business.category),
    )


@router.post("/b/{business_id}/profile", dependencies=[Csrf])
def profile_save(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, posted: PostedForm
) -> Response:
    form = dict(posted)
    data, errors = form_to_fields(form, business.currency)
    if not errors:
        try:
            update = BusinessUpdate.model_validate(data)
            service.update(db, web.actor, business.id, update)
            return RedirectResponse(f"/b/{business.id}/profile?saved=1", status_code=303)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "name"
                errors["avg_check" if field == "avg_check_minor" else field] = err[
                    "msg"
                ].removeprefix("Value error, ")
        except Invalid as exc:
            for fe in exc.errors:
                errors[fe.field] = fe.message
    db.rollback()
    db.refresh(business)
    return page(
        request,
        web,
        "businesses/profile.html",
        status=422,
        business=business,
        form=form,
        errors=errors,
        saved=False,
        category=categories.get(str(form.get("category", business.category))),
    )


@router.get("/businesses/new")
def new_business_form(request: Request, web: SignedIn) -> Response:
    owned = [ws for ws, role in web.actor.roles.items() if role is Role.owner]
    return page(request, web, "businesses/new.html", form={}, errors={}, workspaces=owned)


@router.post("/businesses/new", dependencies=[Csrf])
def new_business(request: Request, web: SignedIn, db: Db, posted: PostedForm) -> Response:
    form = dict(posted)
    errors: dict[str, str] = {}
    owned = [ws for ws, role in web.actor.roles.items() if role is Role.owner]
    try:
        data = BusinessCreate(
            name=str(form.get("name", "")), category=str(form.get("category", ""))
        )
        assert web.user is not None
        workspace_id = (
            owned[0] if owned else accounts.create_workspace(db, name=data.name, owner=web.user).id
        )
        if not owned:
            web.actor.roles[workspace_id] = Role.owner
        business = service.create_for(db, web.actor, workspace_id=workspace_id, data=data)
        return RedirectResponse(f"/b/{business.id}/profile", status_code=303)
    except ValidationError as exc:
        for err in exc.errors():
            errors[str(err["loc"][0])] = err["msg"].removeprefix("Value error, ")
    except DomainError as exc:
        errors[exc.field or "name"] = exc.detail
    db.rollback()
    return page(
        request, web, "businesses/new.html", status=422, form=form, errors=errors, workspaces=owned
    )


@router.get("/categories/options")
def category_options(request: Request, web: Page, q: str = "") -> Response:
    """The picker's htmx partial: matching categories as clickable options.

    Public: the sign-up form uses it before anyone is signed in (the taxonomy is public data).
    """
    locale = pick_locale(request, web.user_locale)
    found = categories.search(q[:100], locale=locale, limit=12)
    return page(request, web, "businesses/_category_options.html", found=found, q=q)
