"""The dashboard's sales chart: weekly revenue with axes and values, the 26 weeks before it as
the line to compare with, partial weeks drawn pale, and how fresh the data is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_timedelta
from babel.numbers import format_compact_decimal, get_currency_precision, get_currency_symbol
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.sales import service as sales
from crosspromo.web.i18n import translations

WEEKS = 26


def _(locale: str, message: str, **values: object) -> str:
    found = translations(locale).gettext(message)
    return found % values if values else found


def major(minor: int, currency: str) -> float:
    return float(Decimal(minor).scaleb(-get_currency_precision(currency)))


def freshness(last: datetime | None, *, zone: str, locale: str, now: datetime | None = None) -> str:
    """ "Last receipt 26 Oct, 34 days ago" in the business's zone and the reader's language."""
    if last is None:
        return _(locale, "No receipts imported yet.")
    tz = ZoneInfo(zone)
    last = last.replace(tzinfo=UTC) if last.tzinfo is None else last
    day = last.astimezone(tz).date()
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    pattern = "d MMM" if day.year == today.year else "d MMM y"
    shown = format_date(day, pattern, locale=locale)
    days = (today - day).days
    if days <= 0:
        ago = _(locale, "today")
    else:
        ago = format_timedelta(
            -timedelta(days=days),
            granularity="day",
            threshold=10**6,
            add_direction=True,
            locale=locale,
        )
    return _(locale, "Last receipt %(date)s, %(ago)s", date=shown, ago=ago)


@dataclass(frozen=True)
class SalesChart:
    spec: dict[str, object] | None  # None: no receipts to draw
    freshness: str


def sales_chart(
    session: Session, business: Business, *, locale: str, now: datetime | None = None
) -> SalesChart:
    """The dashboard's weekly revenue chart and its freshness line."""
    from crosspromo.measurement import charts  # Altair loads with the first chart drawn

    totals = sales.totals(session, business_id=business.id)
    fresh = freshness(totals.last, zone=business.timezone, locale=locale, now=now)
    if totals.last is None:
        return SalesChart(None, fresh)
    end = totals.last if totals.last.tzinfo else totals.last.replace(tzinfo=UTC)
    since = end - timedelta(weeks=WEEKS)
    weeks = sales.weekly(session, business_id=business.id, timezone=business.timezone, until=end)
    before = sales.weekly(session, business_id=business.id, timezone=business.timezone, until=since)
    previous = {w.start + timedelta(weeks=WEEKS): w for w in before}
    currency = business.currency
    bars: list[charts.Bar] = []
    for week in weeks:
        earlier = previous.get(week.start)
        bars.append(
            charts.Bar(
                label=format_date(week.start, "d MMM", locale=locale),
                value=major(week.revenue_minor, currency),
                previous=major(earlier.revenue_minor, currency) if earlier else None,
                partial=week.partial,
                shown=format_compact_decimal(
                    major(week.revenue_minor, currency), locale=locale, fraction_digits=1
                ),
            )
        )
    symbol = get_currency_symbol(currency, locale=locale)
    spec = charts.weekly(
        bars,
        title=_(locale, "Revenue by week"),
        axis_x=_(locale, "Week starting"),
        axis_y=_(locale, "Revenue, %(currency)s", currency=symbol),
        current=_(locale, "Full week"),
        previous=_(locale, "26 weeks earlier"),
        partial=_(locale, "Partial week"),
    )
    return SalesChart(spec, fresh)
