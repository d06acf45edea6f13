"""Pages: a campaign's measurement section (loaded into the campaign page) and its report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from crosspromo.auth import ManagerBusinessPage
from crosspromo.campaigns import service as campaigns
from crosspromo.measurement import attribution
from crosspromo.measurement.report_api import csv_response, pdf_response
from crosspromo.web.deps import Db, SignedIn, parse_uuid
from crosspromo.web.i18n import pick_locale
from crosspromo.web.templating import render

router = APIRouter(include_in_schema=False)

Model = Literal["first", "last", "linear", "time_decay", "position", "markov", "shapley"]
BASE = "/b/{business_id}/measurement/campaigns/{campaign_id}"


@router.get(BASE)
def section(
    request: Request,
    business: ManagerBusinessPage,
    campaign_id: str,
    web: SignedIn,
    db: Db,
    model: Annotated[Model, Query()] = "markov",
) -> Response:
    """The measurement section of a campaign page: dynamics, funnel, attribution by `model`."""
    from crosspromo.measurement import report  # fpdf, Altair and the statistics load when used

    campaign, _ = campaigns.get(db, web.actor, parse_uuid(campaign_id))
    locale = pick_locale(request, web.user_locale)
    found = report.build(db, campaign_id=campaign.id, locale=locale)
    rows = found.attribution.get(model, [])
    total = sum(value for _, _, value in rows)
    return render(
        request,
        "measurement/_campaign.html",
        business=business,
        campaign=campaign,
        report=found,
        specs=report.chart_specs(found, model),
        model=model,
        models=[(m, report.MODEL_NAMES[m]) for m in attribution.MODELS],
        channels=report.CHANNEL_NAMES,
        rows=rows,
        total=total,
    )


@router.get(BASE + "/report.pdf")
def report_pdf(
    request: Request,
    business: ManagerBusinessPage,
    campaign_id: str,
    web: SignedIn,
    db: Db,
    lang: Annotated[Literal["en", "ru"] | None, Query()] = None,
) -> Response:
    from crosspromo.measurement import report

    campaign, _ = campaigns.get(db, web.actor, parse_uuid(campaign_id))
    locale = lang or pick_locale(request, web.user_locale)
    return pdf_response(report.build(db, campaign_id=campaign.id, locale=locale))


@router.get(BASE + "/report.csv")
def report_csv(
    request: Request, business: ManagerBusinessPage, campaign_id: str, web: SignedIn, db: Db
) -> Response:
    from crosspromo.measurement import report

    campaign, _ = campaigns.get(db, web.actor, parse_uuid(campaign_id))
    locale = pick_locale(request, web.user_locale)
    return csv_response(report.build(db, campaign_id=campaign.id, locale=locale))
