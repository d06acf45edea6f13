"""The public landing page of a referral link: the offer in the customer's language, the code."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date, get_day_names
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.errors import NotFound
from crosspromo.offers import referrals
from crosspromo.offers.models import Offer
from crosspromo.web.deps import Csrf, Db, Page
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


def _show(request: Request, web: Any, link: referrals.Link, *, shown: bool) -> Response:
    locale = pick_locale(request, web.user_locale)
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
        shown=shown,
        qr=Markup(qr),  # noqa: S704  (segno's own SVG, no user input in markup)
    )


def _visit(request: Request, db: Db, token: str, *, taken: bool) -> referrals.Link:
    link, _ = referrals.click(
        db,
        token,
        address=_address(request),
        user_agent=request.headers.get("user-agent", ""),
        accept_language=request.headers.get("accept-language", ""),
        secret_key=request.app.state.secret_key,
        taken=taken,
    )
    return link


@router.get("/r/{token}")
def landing(request: Request, token: str, web: Page, db: Db, code: bool = False) -> Response:
    """A referral link: log the visit (never paid: link previews fetch it too), show the offer."""
    try:
        # back from taking the code (?code=1): shown, not counted again
        link = referrals.find(db, token) if code else _visit(request, db, token, taken=False)
    except NotFound:
        db.rollback()
        return page(request, web, "offers/landing.html", status=404, link=None)
    db.commit()
    return _show(request, web, link, shown=code)


@router.post("/r/{token}", dependencies=[Csrf])
def take(request: Request, token: str, web: Page, db: Db) -> Response:
    """The person takes the code: the paid click, by the once-per-address-link-day rule."""
    try:
        link = _visit(request, db, token, taken=True)
    except NotFound:
        db.rollback()
        return page(request, web, "offers/landing.html", status=404, link=None)
    db.commit()
    return RedirectResponse(f"/r/{link.display}?code=1", status_code=303)
