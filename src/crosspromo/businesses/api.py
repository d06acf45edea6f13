"""JSON API for business profiles and the category taxonomy."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from crosspromo import paging
from crosspromo.auth import CashierBusiness
from crosspromo.businesses import categories, service
from crosspromo.businesses.models import Business
from crosspromo.businesses.schemas import BusinessCreate, BusinessOut, BusinessUpdate
from crosspromo.paging import Page
from crosspromo.web.deps import ApiActor, Db
from crosspromo.web.query import Cursor

router = APIRouter(prefix="/api/v1", tags=["businesses"])


def out(business: Business, locale: str = "en") -> BusinessOut:
    result = BusinessOut.model_validate(business)
    category = categories.get(business.category)
    result.category_name = category.name(locale) if category else business.category
    return result


@router.get("/businesses", response_model=Page[BusinessOut])
def list_businesses(
    actor: ApiActor,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> Page[BusinessOut]:
    """The caller's businesses by slug; pass `next_cursor` back for the next page."""
    rows = service.list_for(db, actor, limit=limit + 1, cursor=cursor)
    found, following = paging.page(rows, limit, lambda b: (b.slug, b.id))
    return Page[BusinessOut](items=[out(b) for b in found], next_cursor=following)


@router.post("/businesses", response_model=BusinessOut, status_code=201)
def create_business(
    actor: ApiActor,
    db: Db,
    workspace_id: Annotated[uuid.UUID, Query()],
    body: BusinessCreate,
) -> BusinessOut:
    business = service.create_for(db, actor, workspace_id=workspace_id, data=body)
    return out(business)


@router.get("/businesses/{business_id}", response_model=BusinessOut)
def get_business(business: CashierBusiness) -> BusinessOut:
    return out(business)


@router.patch("/businesses/{business_id}", response_model=BusinessOut)
def update_business(
    target: CashierBusiness,
    actor: ApiActor,
    db: Db,
    body: Annotated[
        dict[str, Any],
        Body(
            openapi_examples={"profile": {"value": {"price_tier": 2, "phone": "+7 495 123-45-67"}}}
        ),
    ],
) -> BusinessOut:
    # The typed dependency answered 404 for a foreign id before any talk of validation.
    data: BusinessUpdate = service.parse_update(body)
    business = service.update(db, actor, target.id, data)
    return out(business)


@router.get("/categories", tags=["categories"])
def search_categories(
    q: Annotated[str, Query(max_length=100)] = "",
    locale: Annotated[str, Query(pattern="^(en|ru)$")] = "en",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, str]]:
    """Search the OpenStreetMap category taxonomy by English or Russian words."""
    return [
        {"code": c.code, "name": c.name(locale), "name_en": c.name_en, "name_ru": c.name_ru}
        for c in categories.search(q, locale=locale, limit=limit)
    ]
