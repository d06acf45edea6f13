"""JSON API: partner suggestions and "why not X?"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.errors import NotFound
from crosspromo.matching import service
from crosspromo.web.deps import ApiActor, Db, parse_uuid
from crosspromo.web.i18n import pick_locale

router = APIRouter(prefix="/api/v1/partners", tags=["partners"])


def _locale(request: Request, locale: str | None) -> str:
    return locale if locale in ("en", "ru") else pick_locale(request)


@router.get("/suggestions")
def suggestions(
    request: Request,
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query(description="The business asking for partners")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    radius_km: Annotated[float | None, Query(gt=0, le=20000)] = None,
    locale: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> list[dict[str, Any]]:
    """Best partners first, with score, criteria, direction, overlap, reasons, warnings."""
    business = businesses.get(db, actor, parse_uuid(business_id), need=Role.manager)
    found = service.suggest(db, business=business, limit=limit, radius_km=radius_km)
    lang = _locale(request, locale)
    return [s.to_dict(lang) for s in found]


@router.get("/why-not")
def why_not(
    request: Request,
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    other: Annotated[str, Query(description="id (slug) of the business you wonder about")],
    radius_km: Annotated[float | None, Query(gt=0, le=20000)] = None,
    locale: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> dict[str, Any]:
    """The reasons a business is not suggested (or its rank when nothing blocks it)."""
    business = businesses.get(db, actor, parse_uuid(business_id), need=Role.manager)
    target = businesses.get_by_slug(db, other.strip().lower())
    if target is None:
        raise NotFound("No business with that id.", field="other")
    reasons, suggestion = service.why_not(db, business=business, other=target, radius_km=radius_km)
    lang = _locale(request, locale)
    return {
        "blocked": suggestion is None,
        "reasons": [r.render(lang) for r in reasons],
        "suggestion": suggestion.to_dict(lang) if suggestion else None,
    }
