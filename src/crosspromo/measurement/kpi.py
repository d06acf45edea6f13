"""KPIs of one business per period, in its own time zone, each against the previous period and
the same period a year earlier.

Definitions (what the truth tests recompute independently):
- receipts, revenue: every imported receipt whose instant lies in the period (refunds count
  with their negative amounts);
- customers: distinct identified customers with a receipt in the period; new customers are
  those whose first receipt ever (at this business) lies in the period; the rest returned;
- average check: revenue / receipts, rounded half up to a minor unit;
- purchase frequency: identified customers' receipts / customers;
- repeat share: customers with receipts on 2+ local days of the period / customers;
- partner revenue: order totals of partner-code redemptions honoured here, net of reversals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.accounts.service import Actor
from crosspromo.businesses import service as businesses
from crosspromo.campaigns import service as campaigns
from crosspromo.errors import Invalid, NotFound
from crosspromo.offers import service as offers
from crosspromo.sales import service as sales
from crosspromo.sales.models import Transaction

MAX_DAYS = 3700  # about ten years


@dataclass(frozen=True)
class Figures:
    """The KPIs of one business over one period."""

    start: date
    end: date
    receipts: int = 0
    revenue_minor: int = 0
    customers: int = 0
    new_customers: int = 0
    customer_receipts: int = 0
    repeat_customers: int = 0
    partner_redemptions: int = 0
    partner_revenue_minor: int = 0

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def avg_check_minor(self) -> int:
        if not self.receipts:
            return 0
        quotient = Decimal(self.revenue_minor) / Decimal(self.receipts)
        return int(quotient.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def purchase_frequency(self) -> float:
        return self.customer_receipts / self.customers if self.customers else 0.0

    @property
    def repeat_share(self) -> float:
        return self.repeat_customers / self.customers if self.customers else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "customers": self.customers,
            "new_customers": self.new_customers,
            "returning_customers": self.returning_customers,
            "receipts": self.receipts,
            "revenue_minor": self.revenue_minor,
            "avg_check_minor": self.avg_check_minor,
            "purchase_frequency": round(self.purchase_frequency, 6),
            "repeat_customers": self.repeat_customers,
            "repeat_share": round(self.repeat_share, 6),
            "partner_redemptions": self.partner_redemptions,
            "partner_revenue_minor": self.partner_revenue_minor,
        }


METRICS = (
    "customers",
    "new_customers",
    "returning_customers",
    "receipts",
    "revenue_minor",
    "avg_check_minor",
    "purchase_frequency",
    "repeat_share",
    "partner_revenue_minor",
)


def change(now: float, before: float | None) -> float | None:
    """The relative change (0.5 = +50 %), or None without a base to compare with."""
    if before is None or before == 0:
        return None
    return round((now - before) / abs(before), 6)


@dataclass(frozen=True)
class KpiPeriod:
    """One period's KPIs with the comparisons (None where there is no data to compare)."""

    period: clock.Period
    currency: str
    figures: Figures
    previous: Figures | None = None
    year_ago: Figures | None = None
    indicators: dict[str, float | None] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return self.period.start

    @property
    def end(self) -> date:
        return self.period.end

    @property
    def partial(self) -> bool:
        return self.period.partial

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"partial": self.partial, "currency": self.currency}
        data.update(self.figures.as_json())
        data["previous"] = self.previous.as_json() if self.previous else None
        data["year_ago"] = self.year_ago.as_json() if self.year_ago else None
        changes: dict[str, dict[str, float | None]] = {}
        for metric in METRICS:
            now = getattr(self.figures, metric)
            changes[metric] = {
                "previous": change(now, getattr(self.previous, metric)) if self.previous else None,
                "year_ago": change(now, getattr(self.year_ago, metric)) if self.year_ago else None,
            }
        data["change"] = changes
        if self.indicators:
            data["indicators"] = self.indicators
        return data


def _layers(found: list[clock.Period]) -> list[list[clock.Period]]:
    """Split distinct periods into runs of adjacent, non-overlapping ones (one query each)."""
    layers: list[list[clock.Period]] = []
    for p in sorted(found, key=lambda p: (p.start, p.end)):
        for layer in layers:
            if layer[-1].end < p.start:
                layer.append(p)
                break
        else:
            layers.append([p])
    runs: list[list[clock.Period]] = []
    for layer in layers:
        run = [layer[0]]
        for p in layer[1:]:
            if p.start == run[-1].end + timedelta(days=1):
                run.append(p)
            else:
                runs.append(run)
                run = [p]
        runs.append(run)
    return runs


def _aggregate(
    session: Session, business_id: uuid.UUID, timezone: str, run: list[clock.Period]
) -> list[Figures]:
    """The figures of adjacent periods in a few set-based queries."""
    edges, owner = clock.edges_of(run)
    since, until = edges[0], edges[-1]
    dialect = session.get_bind().dialect.name
    t = Transaction
    in_range = (
        t.business_id == business_id,
        t.at >= clock.instant(since),
        t.at < clock.instant(until),
    )
    base = (
        select(
            clock.bucket(t.at, edges).label("b"),
            t.customer_id.label("c"),
            t.amount_minor.label("m"),
            clock.local_day(t.at, timezone, since, until, dialect).label("d"),
        )
        .where(*in_range)
        .subquery()
    )
    per_customer = (
        select(
            base.c.b,
            base.c.c,
            func.count().label("n"),
            func.sum(base.c.m).label("m"),
            func.count(func.distinct(base.c.d)).label("days"),
        )
        .group_by(base.c.b, base.c.c)
        .subquery()
    )
    known = per_customer.c.c.is_not(None)
    rows = session.execute(
        select(
            per_customer.c.b,
            func.sum(per_customer.c.n),
            func.sum(per_customer.c.m),
            func.count(per_customer.c.c),
            func.sum(case((known, per_customer.c.n), else_=0)),
            func.sum(case((and_(known, per_customer.c.days >= 2), 1), else_=0)),
        ).group_by(per_customer.c.b)
    ).all()
    values: dict[int, dict[str, int]] = {}
    for b, receipts, revenue, customers, customer_receipts, repeat in rows:
        values[int(b)] = {
            "receipts": int(receipts or 0),
            "revenue_minor": int(revenue or 0),
            "customers": int(customers or 0),
            "customer_receipts": int(customer_receipts or 0),
            "repeat_customers": int(repeat or 0),
        }
    for b, (count, total) in offers.redeemed_by_interval(
        session, business_id=business_id, edges=edges
    ).items():
        values.setdefault(b, {}).update(partner_redemptions=count, partner_revenue_minor=total)
    found: list[Figures] = [Figures(p.start, p.end) for p in run]
    for b, figures in values.items():
        index = owner[b] if 0 <= b < len(owner) else None
        if index is not None:
            p = run[index]
            found[index] = Figures(p.start, p.end, **figures)
    return found


def _new_by_day(
    session: Session, business_id: uuid.UUID, timezone: str, since: datetime, until: datetime
) -> dict[date, int]:
    """How many customers made their first purchase here on each local day of [since, until)."""
    t = Transaction
    firsts = (
        select(t.customer_id, func.min(t.at).label("first"))
        .where(t.business_id == business_id, t.customer_id.is_not(None))
        .group_by(t.customer_id)
        .subquery()
    )
    dialect = session.get_bind().dialect.name
    days = (
        select(clock.local_day(firsts.c.first, timezone, since, until, dialect).label("d"))
        .where(firsts.c.first >= clock.instant(since), firsts.c.first < clock.instant(until))
        .subquery()
    )
    rows = session.execute(select(days.c.d, func.count()).group_by(days.c.d)).all()
    return {clock.as_date(d): int(n) for d, n in rows}


def figures_for(
    session: Session, *, business_id: uuid.UUID, timezone: str, found: list[clock.Period]
) -> dict[tuple[date, date], Figures]:
    """Figures for any set of periods (they may overlap), keyed by (start, end)."""
    distinct = {(p.start, p.end): p for p in found}
    if not distinct:
        return {}
    # New customers: one pass over first purchases, counted per local day, whatever overlaps.
    new = _new_by_day(
        session,
        business_id,
        timezone,
        min(p.since for p in distinct.values()),
        max(p.until for p in distinct.values()),
    )
    result: dict[tuple[date, date], Figures] = {}
    for run in _layers(list(distinct.values())):
        for figures in _aggregate(session, business_id, timezone, run):
            count = sum(n for d, n in new.items() if figures.start <= d <= figures.end)
            result[(figures.start, figures.end)] = replace(figures, new_customers=count)
    return result


def kpis(
    session: Session,
    *,
    business_id: uuid.UUID,
    start: date,
    end: date,
    by: str,
    compare: bool = True,
) -> list[KpiPeriod]:
    """KPIs of a business per day/week/month/quarter between two local days (both included)."""
    if by not in clock.BY:
        raise Invalid(f"Unknown period {by!r}; use one of {', '.join(clock.BY)}.", field="by")
    if end < start:
        raise Invalid("The period ends before it starts.", field="to")
    if (end - start).days > MAX_DAYS:
        raise Invalid(f"Ask for at most {MAX_DAYS} days at a time.", field="to")
    found = businesses.by_ids(session, {business_id})
    if not found:
        raise NotFound("No such business.")
    business = found[0]
    tz = business.timezone
    totals = sales.totals(session, business_id=business_id)
    first = clock.local_date(totals.first, tz) if totals.first else None
    last = clock.local_date(totals.last, tz) if totals.last else None
    main = clock.periods(start, end, by, tz, data_first=first, data_last=last)
    wanted = list(main)
    pairs: list[tuple[clock.Period | None, clock.Period | None]] = []
    for p in main:
        before = clock.previous(p, by, tz) if compare else None
        year = clock.year_earlier(p, by, tz) if compare else None
        before = before if _has_data(before, totals.first, totals.last) else None
        year = year if _has_data(year, totals.first, totals.last) else None
        pairs.append((before, year))
        wanted.extend(x for x in (before, year) if x is not None)
    figures = figures_for(session, business_id=business_id, timezone=tz, found=wanted)
    return [
        KpiPeriod(
            period=p,
            currency=business.currency,
            figures=figures[(p.start, p.end)],
            previous=figures[(b.start, b.end)] if b else None,
            year_ago=figures[(y.start, y.end)] if y else None,
        )
        for p, (b, y) in zip(main, pairs, strict=True)
    ]


def _has_data(p: clock.Period | None, first: datetime | None, last: datetime | None) -> bool:
    if p is None or first is None or last is None:
        return False
    return p.until > first and p.since <= last


GOAL_METRICS = {
    "revenue": "revenue_minor",
    "receipts": "receipts",
    "average_check": "avg_check_minor",
    "customers": "customers",
}


@dataclass(frozen=True)
class PlanFact:
    """A campaign goal: the plan (what the target means in figures) against the fact so far."""

    metric: str
    kind: str
    target: int
    baseline_start: date
    baseline_end: date
    start: date
    end: date
    baseline: int
    plan: int
    fact: int
    met: bool | None
    partial: bool  # the campaign has not ended yet (or its data stops early)

    def as_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("baseline_start", "baseline_end", "start", "end"):
            data[key] = data[key].isoformat()
        return data


def plan_vs_fact(
    session: Session, actor: Actor, *, campaign_id: uuid.UUID, today: date | None = None
) -> PlanFact | None:
    """The goal business's figure over the campaign so far against its baseline and target."""
    campaign, _mine = campaigns.get(session, actor, campaign_id)
    if (
        campaign.goal_metric is None
        or campaign.goal_kind is None
        or campaign.goal_target is None
        or campaign.goal_business_id is None
        or campaign.starts_on is None
        or campaign.ends_on is None
    ):
        return None
    goal = businesses.by_ids(session, {campaign.goal_business_id})[0]
    tz = goal.timezone
    today = today or clock.local_date(datetime.now(UTC), tz)
    before = campaigns.baseline_period(campaign)
    end = min(campaign.ends_on, max(today, campaign.starts_on))
    spans = [clock.span(*before, tz), clock.span(campaign.starts_on, end, tz)]
    found = figures_for(session, business_id=goal.id, timezone=tz, found=spans)
    key = GOAL_METRICS[campaign.goal_metric.value]
    baseline = int(getattr(found[before], key))
    fact = int(getattr(found[(campaign.starts_on, end)], key))
    target = campaign.goal_target
    kind = campaign.goal_kind.value
    if kind == "reach":
        plan = target
    elif kind == "increase_by":
        plan = baseline + target
    else:
        plan = int(
            (Decimal(baseline) * (10_000 + target) / 10_000).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
    outcome = campaigns.Outcome(campaign.goal_metric, campaign.goal_kind, target, baseline, fact)
    return PlanFact(
        metric=campaign.goal_metric.value,
        kind=kind,
        target=target,
        baseline_start=before[0],
        baseline_end=before[1],
        start=campaign.starts_on,
        end=end,
        baseline=baseline,
        plan=plan,
        fact=fact,
        met=outcome.met,
        partial=end < campaign.ends_on,
    )
