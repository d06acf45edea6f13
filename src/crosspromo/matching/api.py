"""JSON API: partner suggestions and "why not X?"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from crosspromo.auth import ManagerBusiness
from crosspromo.businesses import categories
from crosspromo.businesses import service as businesses
from crosspromo.errors import Invalid, NotFound
from crosspromo.matching import aggregates, posterior, relations, service
from crosspromo.matching.schemas import RelationsOut, SuggestionOut, WhyNotOut
from crosspromo.web.deps import ApiActor, Db
from crosspromo.web.i18n import pick_locale

router = APIRouter(prefix="/api/v1/partners", tags=["partners"])


def _locale(request: Request, locale: str | None) -> str:
    return locale if locale in ("en", "ru") else pick_locale(request)


@router.get("/suggestions", response_model=list[SuggestionOut])
def suggestions(
    request: Request,
    actor: ApiActor,
    db: Db,
    business: ManagerBusiness,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    radius_km: Annotated[float | None, Query(gt=0, le=20000)] = None,
    locale: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> list[dict[str, Any]]:
    """Best partners first, with score, criteria, direction, overlap, reasons, warnings."""
    found = service.suggest(db, business=business, limit=limit, radius_km=radius_km)
    lang = _locale(request, locale)
    return [s.to_dict(lang) for s in found]


@router.get("/why-not", response_model=WhyNotOut)
def why_not(
    request: Request,
    actor: ApiActor,
    db: Db,
    business: ManagerBusiness,
    other: Annotated[str, Query(description="id (slug) of the business you wonder about")],
    radius_km: Annotated[float | None, Query(gt=0, le=20000)] = None,
    locale: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> dict[str, Any]:
    """The reasons a business is not suggested (or its rank when nothing blocks it)."""
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


@router.get("/relations", response_model=RelationsOut)
def category_relations(
    actor: ApiActor,
    db: Db,
    category: Annotated[str, Query(max_length=100, description="e.g. shop=bakery")],
    locale: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
    city: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
) -> dict[str, Any]:
    """Curated relations of a category next to what everyone's shared customers say."""
    if not categories.exists(category):
        raise Invalid(f"Unknown category {category!r}.", field="category")
    return relations_view(db, category, locale or "en", city)


def relations_view(db: Any, category: str, locale: str, city: str | None = None) -> dict[str, Any]:
    """One category's curated and learned relations, for the API and the CLI."""
    curated = [
        {
            "category": other,
            "name": categories.get(other).name(locale) if categories.get(other) else other,  # type: ignore[union-attr]
            "kind": rel.kind,
            "direction": relations.direction(category, other),
            "strength": rel.strength,
            "source": rel.source,
            "note": rel.note,
        }
        for other, rel in _curated(category)
    ]
    learned_rows = []
    for other, figures in sorted(aggregates.for_category(db, category, city).items()):
        belief = posterior.believe(category, other, figures)
        n, k = figures.shared, figures.partner_first
        low, high = posterior.beta_interval(k + 0.5, n - k + 0.5)
        learned_rows.append(
            {
                "category": other,
                "city": figures.city,
                "business_pairs": figures.business_pairs,
                "shared_customers": n,
                "expected_by_chance": round(figures.expected, 1),
                "lift": round(figures.lift, 2),
                "other_first_share": round(k / n, 3) if n else 0.5,
                "other_first_interval": [round(low, 3), round(high, 3)],
                "switched_share": round(figures.switched / n, 3) if n else 0.0,
                "small_sample": not figures.ordered,
                "strength": round(belief.strength, 3),
                "direction": belief.direction,
                "source": belief.source,
            }
        )
    return {
        "category": category,
        "curated": curated,
        "learned": learned_rows,
        "relations_version": relations.version(),
    }


def _curated(category: str) -> list[tuple[str, relations.Relation]]:
    found = [
        (r.b if r.a == category else r.a, r)
        for r in relations.all_relations()
        if category in (r.a, r.b)
    ]
    return sorted(found, key=lambda item: (item[1].kind, -item[1].strength, item[0]))
