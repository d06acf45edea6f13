"""JSON API's printable side: a campaign's report as PDF and its figures as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from crosspromo.campaigns.auth import MemberCampaign
from crosspromo.web.deps import ApiActor, Db

if TYPE_CHECKING:
    from crosspromo.measurement import report

router = APIRouter(prefix="/api/v1/campaigns", tags=["measurement"])

Lang = Literal["en", "ru"]


def pdf_response(found: report.Report) -> Response:
    from crosspromo.measurement import report  # fpdf and the statistics load when used

    return Response(
        report.pdf(found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="campaign-{found.campaign_id}.pdf"'},
    )


def csv_response(found: report.Report) -> Response:
    from crosspromo.measurement import report

    return Response(
        report.csv_text(found).encode("utf-8-sig"),  # Excel reads UTF-8 with the BOM
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{found.campaign_id}.csv"'},
    )


@router.get("/{campaign_id}/report.pdf")
def report_pdf(
    campaign: MemberCampaign, actor: ApiActor, db: Db, lang: Annotated[Lang, Query()] = "en"
) -> Response:
    """The campaign's printable report: goal, KPIs before/after, dynamics, funnel, attribution."""
    from crosspromo.measurement import report

    return pdf_response(report.build(db, campaign_id=campaign.id, locale=lang))


@router.get("/{campaign_id}/report.csv")
def report_csv(
    campaign: MemberCampaign, actor: ApiActor, db: Db, lang: Annotated[Lang, Query()] = "en"
) -> Response:
    """The report's figures as CSV (raw numbers: minor units, shares 0..1)."""
    from crosspromo.measurement import report

    return csv_response(report.build(db, campaign_id=campaign.id, locale=lang))
