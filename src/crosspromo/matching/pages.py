"""The "Find partners" page: filters, cards with score bars, reasons, overlap; "why not X?"."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import categories
from crosspromo.businesses import service as businesses
from crosspromo.errors import NotFound
from crosspromo.matching import service
from crosspromo.matching.explain import N_
from crosspromo.web.deps import Db, SignedIn
from crosspromo.web.i18n import pick_locale

router = APIRouter(include_in_schema=False)
CRITERIA_NAMES = {
    "complementarity": N_("Complementarity"),
    "overlap": N_("Shared audience"),
    "price": N_("Price tier fit"),
    "cycle": N_("Deal-cycle position"),
    "distance": N_("Distance"),
    "balance": N_("Audience size balance"),
    "channel": N_("Online/offline fit"),
    "record": N_("Partnership record"),
}
DIRECTIONS = {
    "before": N_("comes before you"),
    "after": N_("comes after you"),
    "together": N_("bought together"),
    "unknown": N_("order unknown"),
}


SOURCES = {
    "curated": N_("From the curated list of categories"),
    "data": N_("From what customers did"),
    "both": N_("The curated list and customers' purchases agree"),
}
TIERS = {
    1: N_("budget"),
    2: N_("mid-range"),
    3: N_("upper mid-range"),
    4: N_("premium"),
}


# Owners compare partners in words, not decimals: (lowest value, word), highest first.
MATCH_WORDS = ((0.7, N_("strong match")), (0.55, N_("good match")), (-1.0, N_("possible match")))
LEVEL_WORDS = ((0.7, N_("high")), (0.4, N_("medium")), (-1.0, N_("low")))


def _in_words(value: float, words: tuple[tuple[float, str], ...]) -> str:
    return next(word for lowest, word in words if value >= lowest)


def match_word(score: float) -> str:
    """A suggestion's score in words."""
    return _in_words(score, MATCH_WORDS)


def level_word(value: float) -> str:
    """A criterion in words next to its bar."""
    return _in_words(value, LEVEL_WORDS)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


@router.get("/b/{business_id}/partners")
def partners(
    request: Request,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    radius_km: str = "",
    limit: str = "10",
    other: str = "",
) -> Response:
    locale = pick_locale(request, web.user_locale)
    # Form fields arrive as text and may be empty: read them leniently, never a 422 page.
    radius = _number(radius_km)
    radius = radius if radius is not None and 0 < radius <= 20000 else None
    wanted = _number(limit)
    limit = str(int(wanted)) if wanted is not None and 1 <= wanted <= 50 else "10"
    found = service.suggest(
        db, business=business, limit=max(1, min(int(limit), 50)), radius_km=radius
    )
    why: dict[str, object] | None = None
    if other.strip():
        target = businesses.find_partner(db, other)
        if target is None:
            why = {"other": other, "reasons": None}
        else:
            reasons, _ = service.why_not(db, business=business, other=target, radius_km=radius)
            why = {"other": target.name, "reasons": [r.render(locale) for r in reasons]}
    return page(
        request,
        web,
        "matching/partners.html",
        business=business,
        suggestions=[s.to_dict(locale) for s in found],
        criteria_names=CRITERIA_NAMES,
        directions=DIRECTIONS,
        sources=SOURCES,
        match_word=match_word,
        level_word=level_word,
        radius=radius or "",
        limit=limit,
        other=other,
        why=why,
    )


@router.get("/b/{business_id}/partner")
def partner_profile(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, slug: str = ""
) -> Response:
    """A possible partner's profile, with why it fits (or what keeps it out)."""
    locale = pick_locale(request, web.user_locale)
    partner = businesses.get_by_slug(db, slug.strip().lower()[:64])
    if partner is None:
        raise NotFound("No business with that id.")
    reasons, found = service.why_not(db, business=business, other=partner)
    category = categories.get(partner.category)
    return page(
        request,
        web,
        "matching/partner.html",
        business=business,
        partner=partner,
        category_name=category.name(locale) if category else partner.category,
        suggestion=found.to_dict(locale) if found else None,
        rank=found.rank if found else None,
        blocked=[r.render(locale) for r in reasons] if found is None else [],
        directions=DIRECTIONS,
        sources=SOURCES,
        tiers=TIERS,
        match_word=match_word,
    )
