"""Indicators that are not in sales (subscribers, reviews, rating, feedback, complaints,
satisfaction, site visits): entered on a page or imported as `indicator,date,value`, and
summed, averaged or read at the end of each period like the sales KPIs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo import clock, locale_input
from crosspromo.db import utcnow
from crosspromo.errors import DomainError, FieldError, Invalid
from crosspromo.imports.reader import FileProblem, open_table
from crosspromo.measurement.indicator_models import IndicatorValue
from crosspromo.web.i18n import N_

# How a period's value is read from daily values: counts add up, levels are read at the end
# of the period, scores are averaged.
INDICATORS: dict[str, str] = {
    "newsletter_subscribers": "last",
    "reviews": "sum",
    "rating": "mean",
    "feedback": "sum",
    "complaints": "sum",
    "satisfaction": "mean",
    "site_visits": "sum",
}
NAMES = {
    "newsletter_subscribers": N_("Newsletter subscribers"),
    "reviews": N_("Reviews"),
    "rating": N_("Rating"),
    "feedback": N_("Feedback"),
    "complaints": N_("Complaints"),
    "satisfaction": N_("Satisfaction"),
    "site_visits": N_("Site visits"),
}
MAX_VALUE = Decimal(10**12)
SHOWN_ERRORS = 100


def check(indicator: str, value: Decimal) -> None:
    if indicator not in INDICATORS:
        raise Invalid(
            f"Unknown indicator {indicator!r}; use one of {', '.join(INDICATORS)}.",
            field="indicator",
        )
    if not Decimal(0) <= value <= MAX_VALUE:
        raise Invalid(f"The value must be between 0 and {MAX_VALUE}.", field="value")
    if indicator in ("rating",) and value > 10:
        raise Invalid("A rating is at most 10.", field="value")
    if value != value.quantize(Decimal("0.0001")):
        raise Invalid("At most four decimal places.", field="value")


def record(
    session: Session,
    *,
    business_id: uuid.UUID,
    indicator: str,
    day: date,
    value: Decimal,
    source: str = "page",
) -> IndicatorValue:
    """Set the indicator's value on a local day (replacing what was there)."""
    check(indicator, value)
    found = session.scalar(
        select(IndicatorValue).where(
            IndicatorValue.business_id == business_id,
            IndicatorValue.indicator == indicator,
            IndicatorValue.day == day,
        )
    )
    if found is None:
        found = IndicatorValue(business_id=business_id, indicator=indicator, day=day)
        session.add(found)
    found.value = value
    found.source = source[:100]
    found.updated_at = utcnow()
    session.flush()
    return found


@dataclass(frozen=True)
class ImportResult:
    rows: int
    inserted: int
    updated: int


class IndicatorsRejected(DomainError):
    def __init__(self, errors: list[FieldError], total: int) -> None:
        shown = "; ".join(f"line {e.line}, column {e.field}: {e.message}" for e in errors[:3])
        super().__init__(
            f"The file was rejected and nothing was imported: {shown}"
            + (f" (and {total - 3} more)" if total > 3 else ""),
            kind="import-rejected",
            status=422,
            title="Import rejected",
            errors=errors,
        )


def import_file(
    session: Session, *, business_id: uuid.UUID, path: Path, filename: str = ""
) -> ImportResult:
    """Import `indicator,date,value` lines, all or nothing; errors name the line."""
    errors: list[FieldError] = []
    total = 0

    def error(line: int, column: str, reason: str) -> None:
        nonlocal total
        total += 1
        if len(errors) < SHOWN_ERRORS:
            errors.append(FieldError(column, reason, line))

    parsed: dict[tuple[str, date], tuple[int, Decimal]] = {}
    try:
        with open_table(path, filename=filename or path.name) as table:
            for column in ("indicator", "date", "value"):
                if column not in table.columns:
                    error(1, column, "required column is missing")
            if not errors:
                for row in table.rows:
                    name = row.values.get("indicator", "").strip().lower()
                    if name not in INDICATORS:
                        error(row.line, "indicator", f"unknown indicator {name!r}")
                        continue
                    try:
                        day = locale_input.parse_date(row.values.get("date", ""))
                    except locale_input.InputError as exc:
                        error(row.line, "date", str(exc))
                        continue
                    try:
                        value = locale_input.parse_number(row.values.get("value", ""))
                        check(name, value)
                    except locale_input.InputError as exc:
                        error(row.line, "value", str(exc))
                        continue
                    except Invalid as exc:
                        error(row.line, "value", exc.detail)
                        continue
                    if (name, day) in parsed:
                        first = parsed[(name, day)][0]
                        error(row.line, "date", f"{name} on {day} repeats line {first}")
                        continue
                    parsed[(name, day)] = (row.line, value)
    except FileProblem as exc:
        error(1, "*", str(exc))
    if errors:
        raise IndicatorsRejected(errors, total)
    existing = {
        (v.indicator, v.day): v
        for v in session.scalars(
            select(IndicatorValue).where(IndicatorValue.business_id == business_id)
        )
        if (v.indicator, v.day) in parsed
    }
    inserted = updated = 0
    source = f"import:{filename or path.name}"[:100]
    for (name, day), (_line, value) in parsed.items():
        found = existing.get((name, day))
        if found is None:
            session.add(
                IndicatorValue(
                    business_id=business_id,
                    indicator=name,
                    day=day,
                    value=value,
                    source=source,
                    updated_at=utcnow(),
                )
            )
            inserted += 1
        elif found.value != value:
            found.value, found.source, found.updated_at = value, source, utcnow()
            updated += 1
    session.flush()
    return ImportResult(len(parsed), inserted, updated)


def values(
    session: Session, *, business_id: uuid.UUID, start: date, end: date
) -> list[IndicatorValue]:
    """The recorded values between two local days, by indicator and day."""
    return list(
        session.scalars(
            select(IndicatorValue)
            .where(
                IndicatorValue.business_id == business_id,
                IndicatorValue.day >= start,
                IndicatorValue.day <= end,
            )
            .order_by(IndicatorValue.indicator, IndicatorValue.day)
            .limit(10_000)
        )
    )


def for_periods(
    session: Session, *, business_id: uuid.UUID, periods: list[clock.Period]
) -> list[dict[str, float | None]]:
    """Each period's value of every indicator with data (None where the period has none)."""
    if not periods:
        return []
    start = min(p.start for p in periods)
    end = max(p.end for p in periods)
    daily: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for v in values(session, business_id=business_id, start=start, end=end):
        daily[v.indicator].append((v.day, Decimal(v.value)))
    found: list[dict[str, float | None]] = []
    for p in periods:
        row: dict[str, float | None] = {}
        for name, series in daily.items():
            inside = [value for day, value in series if p.start <= day <= p.end]
            row[name] = _combine(INDICATORS[name], inside)
        found.append(row)
    return found


def _combine(how: str, inside: list[Decimal]) -> float | None:
    if not inside:
        return None
    if how == "sum":
        return float(sum(inside))
    if how == "last":
        return float(inside[-1])
    return round(float(sum(inside) / len(inside)), 4)
