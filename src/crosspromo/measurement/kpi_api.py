"""JSON API: a business's KPIs per period, and its indicators outside sales."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from crosspromo import clock
from crosspromo.auth import ManagerBusiness
from crosspromo.businesses.models import Business
from crosspromo.errors import Invalid
from crosspromo.fields import Input
from crosspromo.imports import upload
from crosspromo.measurement import indicators
from crosspromo.measurement.kpi import kpis, plan_vs_fact
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1", tags=["measurement"])
Day = Annotated[date | None, Query(description="a local date, YYYY-MM-DD")]


def default_range(business: Business, start: date | None, end: date | None) -> tuple[date, date]:
    """Missing ends: up to today in the business's zone, and 12 weeks back."""
    today = clock.local_date(datetime.now(UTC), business.timezone)
    end = end or today
    start = start or end - timedelta(weeks=12) + timedelta(days=1)
    if start < date(1990, 1, 1) or end > date(2100, 12, 31):
        raise Invalid("Dates must lie between 1990 and 2100.", field="from")
    return start, end


@router.get("/businesses/{business_id}/kpis")
def business_kpis(
    business: ManagerBusiness,
    db: Db,
    start: Annotated[date | None, Query(alias="from", description="first local day")] = None,
    end: Annotated[date | None, Query(alias="to", description="last local day")] = None,
    by: Annotated[str, Query(pattern="^(day|week|month|quarter)$")] = "week",
) -> list[dict[str, Any]]:
    """KPIs per period (local days of the business's zone), with their comparisons."""
    start, end = default_range(business, start, end)
    found = kpis(db, business_id=business.id, start=start, end=end, by=by)
    extra = indicators.for_periods(db, business_id=business.id, periods=[k.period for k in found])
    return [{**k.as_json(), "indicators": e} for k, e in zip(found, extra, strict=True)]


@router.get("/campaigns/{campaign_id}/goal")
def campaign_goal(campaign_id: str, actor: ApiActor, db: Db) -> dict[str, Any] | None:
    """The campaign goal's plan against the fact so far, in the goal business's own days."""
    found = plan_vs_fact(db, actor, campaign_id=parse_uuid(campaign_id))
    return found.as_json() if found else None


class IndicatorIn(Input):
    indicator: str = Field(max_length=32, pattern="^[a-z_]+$")
    day: date = Field(alias="date")
    value: Decimal = Field(ge=0, le=10**12)


@router.get("/businesses/{business_id}/indicators")
def list_indicators(
    business: ManagerBusiness,
    db: Db,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> list[dict[str, Any]]:
    """Recorded indicator values between two local days."""
    start, end = default_range(business, start, end)
    return [
        {"indicator": v.indicator, "date": v.day.isoformat(), "value": float(v.value)}
        for v in indicators.values(db, business_id=business.id, start=start, end=end)
    ]


@router.put("/businesses/{business_id}/indicators")
def set_indicator(business: ManagerBusiness, db: Db, body: IndicatorIn) -> dict[str, Any]:
    """Record an indicator's value on a local day (replaces an earlier value)."""
    found = indicators.record(
        db, business_id=business.id, indicator=body.indicator, day=body.day, value=body.value
    )
    return {
        "indicator": found.indicator,
        "date": found.day.isoformat(),
        "value": float(found.value),
    }


@router.post("/businesses/{business_id}/indicators/import")
async def import_indicators(
    business: ManagerBusiness,
    db: Db,
    file: Annotated[UploadFile, File(description="CSV or XLSX: indicator,date,value")],
) -> dict[str, Any]:
    """Import a file of indicator values, all or nothing (422 lists the bad lines)."""
    path, _size = await upload.save(file)
    try:
        result = await run_in_threadpool(
            indicators.import_file,
            db,
            business_id=business.id,
            path=path,
            filename=file.filename or "",
        )
    finally:
        path.unlink(missing_ok=True)
    return {"rows": result.rows, "inserted": result.inserted, "updated": result.updated}
