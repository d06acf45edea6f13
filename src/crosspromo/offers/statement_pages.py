"""The statements page: pick a partner and a period, see what is owed each way, download."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import service as businesses
from crosspromo.clock import local_today
from crosspromo.offers.statement_api import build
from crosspromo.partnerships import service as partnerships
from crosspromo.web.deps import Db, SignedIn
from crosspromo.web.i18n import N_

router = APIRouter(include_in_schema=False)

KINDS = {
    "sale": N_("Sale"),
    "lead": N_("Lead"),
    "click": N_("Click"),
    "staff_reward": N_("Staff reward"),
    "fixed_fee": N_("Fixed fee"),
    "receivable": N_("Owed to us"),
    "payable": N_("We owe"),
}


@router.get("/b/{business_id}/statements")
def statements_page(
    request: Request,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    partner: Annotated[str, Query()] = "",
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
) -> Response:
    others = {
        p.to_business_id if p.from_business_id == business.id else p.from_business_id
        for p in partnerships.live_for(db, web.actor, business_id=business.id)
    }
    partners = sorted(businesses.by_ids(db, others), key=lambda b: b.name.casefold())
    end = end or local_today(business)
    start = start or end.replace(day=1)
    found = None
    if partner:
        found = build(db, web.actor, business, partner, start, end, limit=500)
    query = {"partner": partner, "start": start.isoformat(), "end": end.isoformat()}
    api = f"/api/v1/businesses/{business.id}/statements?"
    names = {business.id: business.name} | {b.id: b.name for b in partners}
    return page(
        request,
        web,
        "offers/statements.html",
        business=business,
        current_business_id=business.id,
        partners=partners,
        partner=partner,
        start=start,
        end=end,
        s=found,
        names=names,
        kinds=KINDS,
        csv_url=api + urlencode(query | {"format": "csv"}),
        pdf_url=api + urlencode(query | {"format": "pdf"}),
    )
