"""The campaign page's "did it work?" section: control group, uplift in plain words, ROI.

Loaded by htmx after the page (measuring reads every receipt of the audience at the partner),
so the plan opens at once however big the campaign.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from starlette.responses import Response

from crosspromo.auth import ManagerBusinessPage
from crosspromo.campaigns import service as campaigns
from crosspromo.errors import DomainError
from crosspromo.measurement import audience as audiences
from crosspromo.measurement.audience_models import Arm
from crosspromo.measurement.roi import roi
from crosspromo.measurement.stats import Estimate
from crosspromo.measurement.uplift import measure
from crosspromo.web import i18n
from crosspromo.web.deps import Db, SignedIn, parse_uuid
from crosspromo.web.templating import render

router = APIRouter()


def _pp(value: float | None, locale: str) -> str:
    """A share as percentage points with one decimal, without its sign."""
    if value is None:
        return "—"
    return format_decimal(abs(value) * 100, format="#,##0.0", locale=Locale.parse(locale))


def _signed_pp(value: float | None, locale: str) -> str:
    if value is None:
        return "—"
    text = format_decimal(value * 100, format="#,##0.0", locale=Locale.parse(locale))
    return text.replace("-", "−")


def _view(estimate: Estimate, locale: str) -> dict[str, Any]:
    low, high = estimate.ci95 or (None, None)
    sequential = estimate.extra.get("sequential")
    return {
        "up": (estimate.difference or 0) >= 0,
        "known": estimate.difference is not None,
        "difference": estimate.difference,
        "low": low,
        "high": high,
        "pp": _pp(estimate.difference, locale),
        "low_pp": _signed_pp(low, locale),
        "high_pp": _signed_pp(high, locale),
        "p_value": estimate.p_value,
        "sequential": sequential,
        "sequential_low_pp": _signed_pp(sequential["ci95"][0], locale) if sequential else None,
        "sequential_high_pp": _signed_pp(sequential["ci95"][1], locale) if sequential else None,
        "cuped": estimate.extra.get("cuped"),
        "method": estimate.method,
    }


@router.get("/b/{business_id}/campaigns/{campaign_id}/measurement/section")
def section(
    request: Request,
    business_id: str,
    campaign_id: str,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
) -> Response:
    """The section as an htmx fragment."""
    campaign, _ = campaigns.get(db, web.actor, parse_uuid(campaign_id))
    locale = i18n.pick_locale(request, web.user_locale)
    context: dict[str, Any] = {"campaign": campaign, "business": business, "problem": None}
    pair = audiences.issuer_and_partner(db, campaign.id)
    if pair is not None:
        setting = audiences.setting(db, campaign.id, pair[0])
        sizes = audiences.sizes(db, campaign.id)
        context["holdout_percent"] = (
            setting.holdout_bp if setting else audiences.DEFAULT_HOLDOUT_BP
        ) / 100
        context["treatment"], context["holdout"] = sizes[Arm.treatment], sizes[Arm.holdout]
        context["power"] = audiences.power_for(db, campaign, pair[0], pair[1])
        context["power_pp"] = (
            _pp(context["power"].detectable_pp / 100, locale)
            if (context["power"].detectable_pp is not None)
            else None
        )
    try:
        measured = measure(db, campaign_id=campaign.id)
        returned = roi(db, campaign_id=campaign.id, measured=measured)
    except DomainError as exc:
        context["problem"] = exc.detail
    else:
        context |= {
            "measured": measured,
            "conversion": _view(measured.conversion, locale),
            "revenue": _view(measured.revenue_per_customer, locale),
            "roi": returned,
            "roi_percent": None
            if returned.roi is None
            else format_decimal(returned.roi * 100, format="#,##0", locale=Locale.parse(locale)),
        }
    db.rollback()  # measuring changes nothing
    return render(request, "measurement/_section.html", **context)
