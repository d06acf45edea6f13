"""The audiences page: saved audiences with their size now, and a builder whose count follows
each change (htmx); a saved audience is then chosen in the message editor."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError, Invalid, NotFound
from crosspromo.messaging import audiences
from crosspromo.messaging.models import Channel
from crosspromo.partnerships import service as partnerships
from crosspromo.web import flash
from crosspromo.web.deps import Csrf, Db, SignedIn
from crosspromo.web.forms import PostedForm, minor_units

router = APIRouter(include_in_schema=False)
DAYS = ("visited_within_days", "lapsed_days", "spend_days")
MONEY = (
    "spend_total_min_minor",
    "spend_total_max_minor",
    "spend_average_min_minor",
    "spend_average_max_minor",
)


def _days(value: str, field: str) -> int | None:
    text = value.strip().replace(" ", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 4:
        raise Invalid("Give a number of days from 1 to 3650.", field=field)
    return int(text)


def rules_of(form: Any, currency: str) -> dict[str, Any]:
    """The builder's fields as rules: days as typed, money in major units as people type it."""
    rules: dict[str, Any] = {}
    for field in DAYS:
        days = _days(str(form.get(field, ""))[:20], field)
        if days is not None:
            rules[field] = days
    for field in MONEY:
        amount = minor_units(str(form.get(field, ""))[:40], currency, field)
        if amount is not None:
            rules[field] = amount
    rules["consent"] = [c.value for c in Channel if form.get(f"consent_{c.value}") == "on"]
    partner = str(form.get("partner_business_id", "")).strip()
    if partner:
        try:
            rules["partner_business_id"] = str(uuid.UUID(partner))
        except ValueError:
            raise Invalid("Choose a partner from the list.", field="partner_business_id") from None
    return rules


def _partners(db: Session, business: Business) -> list[Business]:
    ids = {partner for _, partner in partnerships.agreed_partners(db, business.id)}
    return sorted(businesses.by_ids(db, ids), key=lambda b: b.name)


def _show(
    request: Request,
    web: SignedIn,
    db: Session,
    business: Business,
    *,
    form: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    items, _ = audiences.page(db, business_id=business.id, cursor=None, limit=100)
    return page(
        request,
        web,
        "messaging/audiences.html",
        status=status,
        business=business,
        items=items,
        sizes={a.id: audiences.sizes(db, business_id=business.id, rules=a.rules) for a in items},
        partners=_partners(db, business),
        form=form or {},
        error=error,
    )


def _problem(exc: DomainError) -> str:
    return f"{exc.field + ': ' if exc.field else ''}{exc.detail}"


@router.get("/b/{business_id}/audiences")
def audiences_page(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db
) -> Response:
    return _show(request, web, db, business)


@router.post("/b/{business_id}/audiences/count", dependencies=[Csrf])
def count(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    """The htmx count under the builder: who the rules match now, per channel."""
    try:
        sizes = audiences.sizes(
            db, business_id=business.id, rules=rules_of(form, business.currency)
        )
        error = ""
    except DomainError as exc:
        sizes, error = None, _problem(exc)
    return page(request, web, "messaging/_audience_count.html", sizes=sizes, error=error)


@router.post("/b/{business_id}/audiences", dependencies=[Csrf])
def save(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    try:
        audiences.create(
            db,
            business_id=business.id,
            name=str(form.get("name", ""))[:300],
            rules=rules_of(form, business.currency),
        )
    except DomainError as exc:
        return _show(request, web, db, business, form=dict(form), error=_problem(exc), status=422)
    return flash.redirect(f"/b/{business.id}/audiences", "Audience saved.")


@router.post("/b/{business_id}/audiences/{audience_id}/delete", dependencies=[Csrf])
def delete(business: ManagerBusinessPage, audience_id: str, db: Db) -> Response:
    try:
        wanted = uuid.UUID(audience_id)
    except ValueError:
        raise NotFound("No such audience.") from None
    audiences.delete(db, business_id=business.id, audience_id=wanted)
    return flash.redirect(f"/b/{business.id}/audiences", "Audience deleted.")
