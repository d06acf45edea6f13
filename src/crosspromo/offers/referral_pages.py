"""The public landing page of a referral link: the offer in the customer's language, the code."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date, get_day_names
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from crosspromo.accounts.pages import page
from crosspromo.errors import NotFound
from crosspromo.offers import referrals
from crosspromo.offers.models import Offer
from crosspromo.web.deps import Db, Page
from crosspromo.web.i18n import pick_locale

router = APIRouter(include_in_schema=False)
ALL_DAYS = 0b1111111


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _facts(offer: Offer, locale: str) -> dict[str, Any]:
    """Dates and weekdays in the visitor's locale (Babel), for the template."""

    def day(value: date | None) -> str:
        return format_date(value, format="long", locale=locale) if value else ""

    names = get_day_names("wide", locale=locale)
    days = [str(names[d]) for d in range(7) if offer.days & (1 << d)]
    return {
        "valid_from": day(offer.valid_from),
        "valid_until": day(offer.valid_until),
        "days": ", ".join(days) if offer.days != ALL_DAYS else "",
        "hours": ""
        if (offer.hour_from, offer.hour_until) == (0, 24)
        else f"{offer.hour_from:02d}:00–{offer.hour_until:02d}:00",
        "percent": f"{offer.percent_bp / 100:g}" if offer.percent_bp is not None else "",
    }


@router.get("/r/{token}")
def landing(request: Request, token: str, web: Page, db: Db) -> Response:
    """A referral link: count the visit, then show the offer and the code for the till."""
    locale = pick_locale(request, web.user_locale)
    try:
        link, _ = referrals.click(
            db,
            token,
            address=_address(request),
            user_agent=request.headers.get("user-agent", ""),
            accept_language=request.headers.get("accept-language", ""),
            secret_key=request.app.state.secret_key,
        )
    except NotFound:
        db.rollback()
        return page(request, web, "offers/landing.html", status=404, link=None)
    db.commit()
    url = str(request.base_url).rstrip("/") + f"/r/{link.display}"
    import segno  # here, not at start-up: see crosspromo.app

    qr = segno.make(url, error="m").svg_inline(scale=4, border=4, title=link.display)
    return page(
        request,
        web,
        "offers/landing.html",
        link=link,
        offer=link.offer,
        facts=_facts(link.offer, locale),
        url=url,
        qr=Markup(qr),  # noqa: S704  (segno's own SVG, no user input in markup)
    )
