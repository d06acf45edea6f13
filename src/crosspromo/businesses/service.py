"""Business profiles: create, read, update, all scoped by what the actor may see."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from crosspromo import events, paging
from crosspromo.businesses.models import Business
from crosspromo.businesses.schemas import BusinessCreate, BusinessUpdate, ProfileFields
from crosspromo.db import folded
from crosspromo.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from crosspromo.identifiers import IdentifierError
from crosspromo.roles import Actor, Role
from crosspromo.sales import service as sales
from crosspromo.settings import get_settings


def invalid_from(exc: ValidationError) -> Invalid:
    """Turn a pydantic ValidationError into one Invalid naming every field at fault."""
    errors = [
        FieldError(
            ".".join(str(p) for p in err["loc"]) or "body", err["msg"].removeprefix("Value error, ")
        )
        for err in exc.errors()
    ]
    first = errors[0] if errors else FieldError("body", "invalid")
    return Invalid(f"{first.field}: {first.message}", errors=errors)


def accessible(actor: Actor) -> Select[Any]:
    """Businesses the actor may see: its workspaces' businesses, or the API key's one."""
    if actor.key_business_id is not None:
        return select(Business).where(Business.id == actor.key_business_id)
    return select(Business).where(Business.workspace_id.in_(actor.workspace_ids))


def get(
    session: Session, actor: Actor, business_id: uuid.UUID, need: Role = Role.cashier
) -> Business:
    """The business if the actor may see it with at least `need`; NotFound otherwise.

    What the actor may see is in the actor (`accessible`), so the row comes from the session's
    identity map when the request already loaded it (its typed permission did): a view that
    asks a dozen times costs one query (bench/campaign_pages.py, the pipeline board).
    """
    business = session.get(Business, business_id)
    if business is None:
        raise NotFound("No such business.")
    role = actor.role_for(business.workspace_id, business.id)
    if role is None:
        raise NotFound("No such business.")
    if not role.at_least(need):
        raise Forbidden(f"This needs the {need.value} role.")
    return business


def get_by_slug(session: Session, slug: str) -> Business | None:
    return session.scalar(select(Business).where(Business.slug == slug))


def addressable(
    session: Session, *, query: str, exclude_id: uuid.UUID, limit: int = 10
) -> list[Business]:
    """Businesses open to partnerships whose name has `query` (any case, any script)."""
    text = query.strip().casefold()
    if not text:
        return []
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        session.scalars(
            select(Business)
            .where(
                Business.open_to_partnerships.is_(True),
                Business.id != exclude_id,
                folded(session, Business.name).like(like, escape="\\"),
            )
            .order_by(Business.name, Business.id)
            .limit(limit)
        )
    )


def find_partner(session: Session, text: str) -> Business | None:
    """The business someone named: its id (slug), or its name when exactly one has it."""
    found = get_by_slug(session, text.strip().lower())
    if found is not None or not text.strip():
        return found
    named = session.scalars(
        select(Business).where(folded(session, Business.name) == text.strip().casefold()).limit(2)
    ).all()
    return named[0] if len(named) == 1 else None


def list_for(
    session: Session, actor: Actor, *, limit: int = 50, cursor: str | None = None
) -> list[Business]:
    """The actor's businesses by slug, a page at a time (`paging` cursor)."""
    query = paging.after(accessible(actor), (Business.slug, Business.id), cursor, descending=False)
    return list(session.scalars(query.limit(limit)))


def role_in(actor: Actor, business: Business) -> Role | None:
    return actor.role_for(business.workspace_id, business.id)


def _slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:50]
    return text or "business"


def _free_slug(session: Session, base: str) -> str:
    slug, n = base, 1
    while session.scalar(select(Business.id).where(Business.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def apply_profile(business: Business, fields: ProfileFields) -> None:
    """Copy validated fields onto a business, normalising the phone in its country."""
    data = fields.model_dump(exclude_unset=True, exclude={"slug", "date_only_receipts"})
    settings = get_settings()
    try:
        phone = fields.normalized_phone(
            data.get("country") or business.country or settings.default_country
        )
    except IdentifierError as exc:
        raise Invalid(str(exc), field="phone") from None
    if phone is not None:
        data["phone"] = phone
    for key, value in data.items():
        if value is None and key in ("email", "website", "address", "city", "description", "phone"):
            value = ""
        setattr(business, key, value)


def create(session: Session, *, workspace_id: uuid.UUID, data: BusinessCreate) -> Business:
    """Create a business in a workspace; the slug is derived from the name when not given."""
    settings = get_settings()
    if data.slug and get_by_slug(session, data.slug):
        raise Conflict(f"The id {data.slug!r} is taken.", field="slug")
    business = Business(
        workspace_id=workspace_id,
        slug=data.slug or _free_slug(session, _slugify(data.name)),
        currency=settings.default_currency,
        country=settings.default_country,
        timezone=settings.default_timezone,
        tags=[],
    )
    apply_profile(business, data)
    session.add(business)
    session.flush()
    events.emit(session, events.BUSINESSES_CHANGED, business)
    return business


def create_for(
    session: Session, actor: Actor, *, workspace_id: uuid.UUID, data: BusinessCreate
) -> Business:
    """Create a business in one of the actor's workspaces (owners only)."""
    role = actor.roles.get(workspace_id)
    if role is None:
        raise NotFound("No such workspace.")
    if role is not Role.owner:
        raise Forbidden("Only an owner adds businesses.")
    return create(session, workspace_id=workspace_id, data=data)


def update(
    session: Session, actor: Actor, business_id: uuid.UUID, data: BusinessUpdate
) -> Business:
    """Update a profile (managers and owners); only the fields sent change."""
    business = get(session, actor, business_id, need=Role.manager)
    if data.timezone is not None and data.timezone != business.timezone:
        change_zone(session, business, data.timezone, data.date_only_receipts)
    apply_profile(business, data)
    session.flush()
    events.emit(session, events.BUSINESSES_CHANGED, business)
    return business


def change_zone(session: Session, business: Business, zone: str, choice: str | None) -> None:
    """A new time zone; imported date-only receipts need the owner's explicit choice."""
    found = sales.date_only_receipts(session, business_id=business.id, timezone=business.timezone)
    if found and choice is None:
        raise Conflict(
            f"{found} receipts were imported with dates only (midnight in "
            f"{business.timezone}). Choose what to do with them: keep their moments "
            "(date_only_receipts=keep) or read their dates in the new zone "
            "(date_only_receipts=reinterpret).",
            field="date_only_receipts",
        )
    if found and choice == "reinterpret":
        sales.move_date_only_receipts(
            session, business_id=business.id, old_zone=business.timezone, new_zone=zone
        )


def parse_create(raw: dict[str, object]) -> BusinessCreate:
    try:
        return BusinessCreate.model_validate(raw)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def parse_update(raw: dict[str, object]) -> BusinessUpdate:
    try:
        return BusinessUpdate.model_validate(raw)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def allow_overlap_discovery(session: Session, *, slugs: list[str]) -> int:
    """Turn on overlap discovery for these businesses (the demo city's owners all agree)."""
    result = session.execute(
        sql_update(Business).where(Business.slug.in_(slugs)).values(allow_overlap_discovery=True)
    )
    events.emit(session, events.BUSINESSES_CHANGED, None)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def by_ids(session: Session, ids: set[uuid.UUID]) -> list[Business]:
    """Businesses by id, for showing a counterpart's name (no tenancy: names are public)."""
    if not ids:
        return []
    return list(session.scalars(select(Business).where(Business.id.in_(ids))))
