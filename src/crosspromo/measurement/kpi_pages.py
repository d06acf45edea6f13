"""The KPI page: figures per period with comparisons, before/after, indicators outside sales."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from crosspromo import clock, locale_input
from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError
from crosspromo.imports import upload
from crosspromo.measurement import indicators
from crosspromo.measurement.kpi import figures_for, kpis
from crosspromo.measurement.kpi_api import default_range
from crosspromo.web.deps import Csrf, Db, SignedIn
from crosspromo.web.i18n import N_

router = APIRouter(include_in_schema=False)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return locale_input.parse_date(value)
    except locale_input.InputError:
        return None


def _before_after(
    db: Db, business: Business, before: tuple[date, date], after: tuple[date, date]
) -> list[dict[str, Any]]:
    """The rows of a before/after table: sales KPIs, then indicators with data."""
    spans = [clock.span(*before, business.timezone), clock.span(*after, business.timezone)]
    found = figures_for(db, business_id=business.id, timezone=business.timezone, found=spans)
    a, b = found[before], found[after]
    rows: list[dict[str, Any]] = []
    for key, label, kind in (
        ("customers", N_("Customers"), "count"),
        ("new_customers", N_("New customers"), "count"),
        ("receipts", N_("Receipts"), "count"),
        ("revenue_minor", N_("Revenue"), "money"),
        ("avg_check_minor", N_("Average check"), "money"),
        ("repeat_share", N_("Repeat purchases"), "share"),
        ("partner_revenue_minor", N_("Revenue through partner codes"), "money"),
    ):
        rows.append(
            {"label": label, "kind": kind, "before": getattr(a, key), "after": getattr(b, key)}
        )
    extra = indicators.for_periods(db, business_id=business.id, periods=spans)
    for name in sorted(set(extra[0]) | set(extra[1])):
        rows.append(
            {
                "label": indicators.NAMES[name],
                "kind": "number",
                "before": extra[0].get(name),
                "after": extra[1].get(name),
            }
        )
    return rows


@router.get("/b/{business_id}/kpis")
def kpi_page(
    request: Request,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    by: str = "week",
) -> Response:
    q = request.query_params
    by = by if by in clock.BY else "week"
    error = None
    try:
        start, end = default_range(business, _day(q.get("from")), _day(q.get("to")))
        found = kpis(db, business_id=business.id, start=start, end=end, by=by)
    except DomainError as exc:
        error = exc.detail
        start, end = default_range(business, None, None)
        found = kpis(db, business_id=business.id, start=start, end=end, by=by)
    extra = indicators.for_periods(db, business_id=business.id, periods=[k.period for k in found])
    after = (_day(q.get("after_from")) or end - timedelta(days=27), _day(q.get("after_to")) or end)
    length = (after[1] - after[0]).days
    before = (
        _day(q.get("before_from")) or after[0] - timedelta(days=length + 1),
        _day(q.get("before_to")) or after[0] - timedelta(days=1),
    )
    comparison = []
    if before[0] <= before[1] and after[0] <= after[1]:
        comparison = _before_after(db, business, before, after)
    return page(
        request,
        web,
        "measurement/kpis.html",
        business=business,
        rows=list(zip(found, extra, strict=True)),
        start=start,
        end=end,
        by=by,
        before=before,
        after=after,
        comparison=comparison,
        indicator_names=indicators.NAMES,
        error=error,
        saved=q.get("saved"),
    )


@router.post("/b/{business_id}/kpis/indicators", dependencies=[Csrf])
async def record_indicator(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db
) -> Response:
    form = await request.form()
    file = form.get("file")
    try:
        if isinstance(file, UploadFile) and file.filename:
            path, _size = await upload.save(file)
            try:
                indicators.import_file(
                    db, business_id=business.id, path=path, filename=file.filename
                )
            finally:
                path.unlink(missing_ok=True)
        else:
            day = locale_input.parse_date(str(form.get("date", "")))
            value = locale_input.parse_number(str(form.get("value", "")))
            indicators.record(
                db,
                business_id=business.id,
                indicator=str(form.get("indicator", "")),
                day=day,
                value=Decimal(value),
            )
    except (DomainError, locale_input.InputError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else str(exc)
        start, end = default_range(business, None, None)
        found = kpis(db, business_id=business.id, start=start, end=end, by="week")
        extra = indicators.for_periods(
            db, business_id=business.id, periods=[k.period for k in found]
        )
        return page(
            request,
            web,
            "measurement/kpis.html",
            status=422,
            business=business,
            rows=list(zip(found, extra, strict=True)),
            start=start,
            end=end,
            by="week",
            before=(start, start),
            after=(end, end),
            comparison=[],
            indicator_names=indicators.NAMES,
            error=message,
            saved=None,
        )
    return RedirectResponse(f"/b/{business.id}/kpis?saved=1", status_code=303)
