"""A campaign's report: goal, KPIs before and after, weekly dynamics, funnel, attribution.

`build` gathers the figures once; `pdf` prints them (fpdf2, the vendored DejaVu fonts, charts
rendered to PNG by vl-convert) and `csv_text` exports the same figures, so the printed report
and the export cannot disagree. Texts come from the Babel catalogue (en, ru) and need no request.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign, GoalKind
from crosspromo.errors import DomainError, Invalid, NotFound
from crosspromo.measurement import attribution, charts, kpi
from crosspromo.measurement import funnel as funnels
from crosspromo.measurement import roi as rois
from crosspromo.measurement import uplift as uplifts
from crosspromo.web.fonts import font_path
from crosspromo.web.i18n import N_, translations

LOCALES = ("en", "ru")
FONT = "DejaVu"
REPORT_MODEL = "markov"  # the attribution drawn as a chart; the table shows every model

KPI_ROWS = (
    ("customers", N_("Customers"), "count"),
    ("new_customers", N_("New customers"), "count"),
    ("returning_customers", N_("Returning customers"), "count"),
    ("receipts", N_("Receipts"), "count"),
    ("revenue_minor", N_("Revenue"), "money"),
    ("avg_check_minor", N_("Average check"), "money"),
    ("repeat_share", N_("Repeat share"), "share"),
    ("partner_revenue_minor", N_("Revenue through partner codes"), "money"),
)
CHANNEL_NAMES = {
    "issued": N_("code issued"),
    "email": N_("e-mail"),
    "message": N_("message link"),
    "click": N_("link click"),
    "redemption": N_("redemption"),
    "visit": N_("partner visit"),
}
MODEL_NAMES = {
    "first": N_("First touch"),
    "last": N_("Last touch"),
    "linear": N_("Linear"),
    "time_decay": N_("Time decay"),
    "position": N_("Position 40/20/40"),
    "markov": N_("Markov"),
    "shapley": N_("Shapley"),
}
DIAGNOSES = {
    "partner_overestimated_audience": N_(
        "The partner overestimated its audience: far fewer customers than its profile says."
    ),
    "audience_not_reached": N_("The audience was not reached: few codes were issued or seen."),
    "partner_did_not_keep_deal": N_(
        "The partner did not keep the deal: codes were issued, none was redeemed at its till."
    ),
}
GOAL_KINDS = {
    GoalKind.increase_by: N_("increase by %(target)s"),
    GoalKind.increase_percent: N_("increase by %(target)s %%"),
    GoalKind.reach: N_("reach %(target)s"),
}
METRICS = {
    "revenue": N_("Revenue"),
    "receipts": N_("Receipts"),
    "average_check": N_("Average check"),
    "customers": N_("Customers"),
}


def text(locale: str, message: str, **values: object) -> str:
    found = translations(locale).gettext(message) if locale != "en" else message
    return found % values if values else found


@dataclass(frozen=True)
class KpiRow:
    business: str
    metric: str  # a kpi.Figures field
    before: float
    after: float

    @property
    def change(self) -> float | None:
        return kpi.change(self.after, self.before)


@dataclass
class Report:
    campaign_id: uuid.UUID
    title: str
    locale: str
    currency: str
    members: list[str]
    starts_on: date | None
    ends_on: date | None
    stage: str
    generated_on: date
    goal: str
    goal_status: str
    baseline: tuple[date, date] | None
    measured: tuple[date, date] | None
    kpis: list[KpiRow] = field(default_factory=list)
    weekly_business: str = ""
    weekly: list[charts.Bar] = field(default_factory=list)
    funnel: funnels.Funnel | None = None
    paths: int = 0
    converting_paths: int = 0
    # model -> [(partner, channel, conversions)], every model on the same paths
    attribution: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)
    measurement: uplifts.Measurement | None = None  # None: not measurable (no offer yet)
    returns: rois.Roi | None = None

    def money(self, minor: float) -> str:
        amount = Decimal(int(minor)).scaleb(-get_currency_precision(self.currency))
        return format_currency(amount, self.currency, locale=self.locale)

    def value(self, metric: str, raw: float) -> str:
        kind = next(k for m, _, k in KPI_ROWS if m == metric)
        if kind == "money":
            return self.money(raw)
        if kind == "share":
            return format_percent(raw, "#,##0.0%", locale=self.locale)
        return format_decimal(raw, locale=self.locale)

    def day(self, day: date | None) -> str:
        return format_date(day, "d MMM y", locale=self.locale) if day else "—"


def _goal(session: Session, campaign: Campaign, locale: str, names: dict[uuid.UUID, str]) -> str:
    if campaign.goal_metric is None or campaign.goal_kind is None or campaign.goal_target is None:
        return text(locale, "No goal set.")
    target: str
    if campaign.goal_kind is GoalKind.increase_percent:
        target = format_decimal(campaign.goal_target / 100, locale=locale)
    elif campaign.goal_metric in campaigns.MONEY:
        amount = Decimal(campaign.goal_target).scaleb(-get_currency_precision(campaign.currency))
        target = format_currency(amount, campaign.currency, locale=locale)
    else:
        target = format_decimal(campaign.goal_target, locale=locale)
    metric = text(locale, METRICS[campaign.goal_metric.value])
    goal = f"{metric}: {text(locale, GOAL_KINDS[campaign.goal_kind], target=target)}"
    if campaign.goal_business_id in names:
        goal += f" ({names[campaign.goal_business_id]})"
    return goal


def _goal_status(session: Session, campaign: Campaign, locale: str) -> str:
    outcome = campaigns.outcome(session, campaign)
    if outcome is None or outcome.met is None:
        return text(locale, "Not decided yet: the result is taken when the campaign ends.")
    return text(locale, "Goal met") if outcome.met else text(locale, "Goal not met")


def _periods(campaign: Campaign, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """The baseline and the campaign's days so far (both ends included)."""
    assert campaign.starts_on is not None and campaign.ends_on is not None
    baseline = campaigns.baseline_period(campaign)
    end = min(campaign.ends_on, max(today, campaign.starts_on))
    return baseline, (campaign.starts_on, end)


def _weekly(
    session: Session,
    business: Business,
    baseline: tuple[date, date],
    measured: tuple[date, date],
    locale: str,
) -> list[charts.Bar]:
    """The campaign's weeks, each against the week as far before it as the campaign lasts."""
    now = kpi.kpis(
        session,
        business_id=business.id,
        start=measured[0],
        end=measured[1],
        by="week",
        compare=False,
    )
    before = kpi.kpis(
        session,
        business_id=business.id,
        start=baseline[0],
        end=baseline[1],
        by="week",
        compare=False,
    )
    precision = get_currency_precision(business.currency)
    bars = []
    for i, period in enumerate(now):
        earlier = before[i] if i < len(before) else None
        value = float(Decimal(period.figures.revenue_minor).scaleb(-precision))
        bars.append(
            charts.Bar(
                label=format_date(period.start, "d MMM", locale=locale),
                value=value,
                previous=float(Decimal(earlier.figures.revenue_minor).scaleb(-precision))
                if earlier
                else None,
                partial=period.partial,
                shown=format_decimal(round(value), locale=locale),
            )
        )
    return bars


def build(
    session: Session, *, campaign_id: uuid.UUID, locale: str = "en", today: date | None = None
) -> Report:
    """Every figure of the campaign's report, in `locale`."""
    if locale not in LOCALES:
        raise Invalid("Use the language en or ru.", field="lang")
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    member_ids = campaigns.member_ids(session, campaign.id)
    members = list(
        session.scalars(select(Business).where(Business.id.in_(member_ids)).order_by(Business.name))
    )
    names = {b.id: b.name for b in members}
    today = today or datetime.now(UTC).date()
    report = Report(
        campaign_id=campaign.id,
        title=campaign.title,
        locale=locale,
        currency=campaign.currency,
        members=[b.name for b in members],
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        stage=campaign.stage.value,
        generated_on=today,
        goal=_goal(session, campaign, locale, names),
        goal_status=_goal_status(session, campaign, locale),
        baseline=None,
        measured=None,
    )
    if campaign.starts_on and campaign.ends_on and campaign.starts_on <= today:
        baseline, measured = _periods(campaign, today)
        report.baseline, report.measured = baseline, measured
        for business in members:
            spans = [
                clock.span(*baseline, business.timezone),
                clock.span(*measured, business.timezone),
            ]
            found = kpi.figures_for(
                session, business_id=business.id, timezone=business.timezone, found=spans
            )
            before, after = found[baseline], found[measured]
            for metric, _, _ in KPI_ROWS:
                report.kpis.append(
                    KpiRow(business.name, metric, getattr(before, metric), getattr(after, metric))
                )
        focus = next(
            (b for b in members if b.id == campaign.goal_business_id),
            members[0] if members else None,
        )
        if focus is not None:
            report.weekly_business = focus.name
            report.weekly = _weekly(session, focus, baseline, measured, locale)
    try:
        report.measurement = uplifts.measure(session, campaign_id=campaign.id)
        report.returns = rois.roi(session, campaign_id=campaign.id, measured=report.measurement)
    except DomainError:  # no offer or no dates yet: the report says it was not measured
        report.measurement, report.returns = None, None
    report.funnel = funnels.funnel(session, campaign_id=campaign.id)
    found_paths = list(attribution.paths(session, campaign_id=campaign.id))
    report.paths = len(found_paths)
    report.converting_paths = sum(1 for p in found_paths if p.converted)
    for model in attribution.MODELS:
        credited = attribution.credit(found_paths, model)
        report.attribution[model] = sorted(
            (
                (names.get(partner, ""), channel, round(value, 6))
                for (partner, channel), value in credited.items()
            ),
            key=lambda row: (row[0], attribution.CHANNELS.index(row[1])),
        )
    return report


def _interval_text(estimate: float, low: float, high: float, locale: str) -> str:
    """ "+3,2 [+1,1; +5,3]" in the reader's number format."""

    def signed(value: float) -> str:
        return format_decimal(round(value, 2), format="+#,##0.##;-#,##0.##", locale=locale)

    return f"{signed(estimate)} [{signed(low)}; {signed(high)}]"


# -- charts ----------------------------------------------------------------------------------


def chart_specs(report: Report, model: str = REPORT_MODEL) -> dict[str, dict[str, Any]]:
    """The report's charts as Vega-Lite specs, for the page and for print."""
    t = report.locale
    specs: dict[str, dict[str, Any]] = {}
    if report.weekly:
        specs["weekly"] = charts.weekly(
            report.weekly,
            title=text(t, "Revenue by week: %(business)s", business=report.weekly_business),
            axis_x=text(t, "Week starting"),
            axis_y=text(t, "Revenue, %(currency)s", currency=report.currency),
            current=text(t, "Campaign week"),
            previous=text(t, "Week of the baseline"),
            partial=text(t, "Partial week"),
        )
    if report.funnel is not None:
        f = report.funnel
        specs["funnel"] = charts.funnel(
            [
                charts.Step(text(t, "Codes issued"), f.issued),
                charts.Step(text(t, "Links opened"), f.clicked),
                charts.Step(text(t, "Codes redeemed"), f.redeemed),
                charts.Step(text(t, "Came back"), f.came_back),
            ],
            title=text(t, "Funnel"),
            axis_x=text(t, "Number"),
        )
    m = report.measurement
    if m is not None and m.conversion.difference is not None and m.conversion.ci95:
        low, high = m.conversion.ci95
        specs["uplift_conversion"] = charts.interval(
            [
                charts.Interval(
                    text(t, "Conversion"),
                    m.conversion.difference * 100,
                    low * 100,
                    high * 100,
                    shown=_interval_text(m.conversion.difference * 100, low * 100, high * 100, t),
                )
            ],
            title=text(t, "Uplift in conversion, %(level)s interval", level="95 %"),
            axis_x=text(t, "Percentage points"),
        )
    r = m.revenue_per_customer if m is not None else None
    if r is not None and r.difference is not None and r.ci95:
        scale = Decimal(1).scaleb(-get_currency_precision(report.currency))
        estimate, low, high = (
            float(Decimal(str(v)) * scale) for v in (r.difference, r.ci95[0], r.ci95[1])
        )
        specs["uplift_revenue"] = charts.interval(
            [
                charts.Interval(
                    text(t, "Revenue per customer"),
                    estimate,
                    low,
                    high,
                    shown=_interval_text(estimate, low, high, t),
                )
            ],
            title=text(t, "Uplift in revenue per customer, %(level)s interval", level="95 %"),
            axis_x=report.currency,
        )
    rows = [
        (f"{partner} · {text(t, CHANNEL_NAMES[channel])}", value)
        for partner, channel, value in report.attribution.get(model, [])
    ]
    if rows:
        specs["attribution"] = charts.shares(
            rows,
            title=text(
                t,
                "Conversions by partner and channel (%(model)s)",
                model=text(t, MODEL_NAMES[model]),
            ),
            axis_x=text(t, "Conversions credited"),
        )
    return specs


# -- CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "business", "item", "channel", "model", "before", "after", "value")


def _safe(cell: object) -> object:
    """A text cell a spreadsheet could read as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def csv_text(report: Report) -> str:
    """The report's figures as one CSV table (raw numbers: minor units, shares 0..1)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)

    def row(*cells: object) -> None:
        writer.writerow([_safe(c) for c in cells])

    row("campaign", "", "title", "", "", "", "", report.title)
    row("campaign", "", "currency", "", "", "", "", report.currency)
    row("campaign", "", "starts_on", "", "", "", "", report.starts_on or "")
    row("campaign", "", "ends_on", "", "", "", "", report.ends_on or "")
    row("goal", "", "goal", "", "", "", "", report.goal)
    row("goal", "", "status", "", "", "", "", report.goal_status)
    for k in report.kpis:
        row("kpi", k.business, k.metric, "", "", k.before, k.after, k.change)
    for bar in report.weekly:
        prev = "" if bar.previous is None else bar.previous
        row("weekly", report.weekly_business, bar.label, "", "", prev, bar.value, bar.partial)
    if report.funnel is not None:
        for step, count in report.funnel.as_dict().items():
            row("funnel", "", step, "", "", "", "", count)
    m = report.measurement
    if m is not None:
        row("uplift", "", "design", "", "", "", "", m.design)
        for name, est in (
            ("conversion", m.conversion),
            ("revenue_per_customer", m.revenue_per_customer),
        ):
            low, high = est.ci95 or ("", "")
            row(
                "uplift",
                "",
                f"{name}.difference",
                "",
                est.method,
                est.holdout,
                est.treatment,
                est.difference if est.difference is not None else "",
            )
            row("uplift", "", f"{name}.ci95_low", "", est.method, "", "", low)
            row("uplift", "", f"{name}.ci95_high", "", est.method, "", "", high)
            row(
                "uplift",
                "",
                f"{name}.relative",
                "",
                est.method,
                "",
                "",
                "" if est.relative is None else est.relative,
            )
            row(
                "uplift",
                "",
                f"{name}.p_value",
                "",
                est.method,
                "",
                "",
                "" if est.p_value is None else est.p_value,
            )
    ret = report.returns
    if ret is not None:
        row("roi", "", "incremental_revenue_minor", "", "", "", "", ret.incremental_revenue_minor)
        row(
            "roi",
            "",
            "incremental_gross_profit_minor",
            "",
            "",
            "",
            "",
            ret.incremental_gross_profit_minor,
        )
        row("roi", "", "total_costs_minor", "", "", "", "", ret.total_costs_minor)
        row("roi", "", "net_minor", "", "", "", "", ret.net_minor)
        row("roi", "", "roi", "", "", "", "", "" if ret.roi is None else ret.roi)
        for side in ret.sides:
            row("roi", side.business, "net_minor", "", "", "", "", side.net_minor)
        for diagnosis in ret.diagnoses:
            row("roi", "", "diagnosis", "", "", "", "", diagnosis)
    row("attribution", "", "paths", "", "", "", "", report.paths)
    row("attribution", "", "converting_paths", "", "", "", "", report.converting_paths)
    for model, rows in report.attribution.items():
        for partner, channel, value in rows:
            row("attribution", partner, "conversions", channel, model, "", "", value)
    return out.getvalue()


# -- PDF -------------------------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(unit="mm", format="A4")
        self._footer = footer
        self.add_font(FONT, "", str(font_path()))
        self.add_font(FONT, "B", str(font_path(bold=True)))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(120)
        self.cell(0, 5, f"{self._footer} · {self.page_no()}", align="R")
        self.set_text_color(0)


def _heading(pdf: FPDF, label: str, keep: float = 30) -> None:
    """A section title, on a new page unless `keep` mm of what follows fit under it."""
    if pdf.get_y() + 11 + keep > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 8, label, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5.5) as table:
        head = table.row()
        for cell in header:
            head.cell(cell)
        for values in rows:
            line = table.row()
            for cell in values:
                line.cell(cell)
    pdf.set_font(FONT, "", 10)


def _chart(pdf: FPDF, spec: dict[str, Any], render: Callable[[dict[str, Any]], bytes]) -> None:
    image = io.BytesIO(render(spec))
    pdf.image(image, w=pdf.epw)
    pdf.ln(2)


def pdf(report: Report, *, render: Callable[[dict[str, Any]], bytes] | None = None) -> bytes:
    """The report as a printable A4 PDF in the report's language."""
    render = render or charts.png
    t = report.locale
    doc = _Pdf(f"crosspromo · {report.title} · {report.day(report.generated_on)}")
    doc.add_page()
    doc.set_font(FONT, "B", 17)
    doc.multi_cell(0, 8, report.title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font(FONT, "", 10)
    doc.multi_cell(
        0,
        5,
        text(t, "Campaign report")
        + f" · {' + '.join(report.members)} · "
        + f"{report.day(report.starts_on)} — {report.day(report.ends_on)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )

    _heading(doc, text(t, "Goal"))
    doc.multi_cell(0, 5, report.goal, new_x="LMARGIN", new_y="NEXT")
    doc.multi_cell(0, 5, report.goal_status, new_x="LMARGIN", new_y="NEXT")

    _heading(doc, text(t, "Before and after"))
    if report.kpis and report.baseline and report.measured:
        doc.multi_cell(
            0,
            5,
            text(
                t,
                "Before: %(before)s. During: %(during)s.",
                before=f"{report.day(report.baseline[0])} — {report.day(report.baseline[1])}",
                during=f"{report.day(report.measured[0])} — {report.day(report.measured[1])}",
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        labels = {m: text(t, label) for m, label, _ in KPI_ROWS}
        rows = []
        for k in report.kpis:
            change = k.change
            rows.append(
                [
                    k.business,
                    labels[k.metric],
                    report.value(k.metric, k.before),
                    report.value(k.metric, k.after),
                    format_percent(change, "+#,##0.0%;-#,##0.0%", locale=t)
                    if change is not None
                    else "—",
                ]
            )
        header = [text(t, "Business"), text(t, "Indicator"), text(t, "Before")]
        header += [text(t, "During"), text(t, "Change")]
        _table(doc, header, rows, (30, 40, 25, 25, 15))
    else:
        doc.multi_cell(0, 5, text(t, "The campaign has not started yet."))

    specs = chart_specs(report)
    _uplift_pages(doc, report, specs, render)
    if "weekly" in specs:
        _heading(doc, text(t, "Weekly dynamics"), keep=95)
        _chart(doc, specs["weekly"], render)
    if "funnel" in specs:
        _heading(doc, text(t, "Funnel"), keep=75)
        _chart(doc, specs["funnel"], render)

    _heading(doc, text(t, "Attribution"), keep=60)
    doc.multi_cell(
        0,
        5,
        text(
            t,
            "%(converting)s of %(paths)s customer paths converted.",
            converting=format_decimal(report.converting_paths, locale=t),
            paths=format_decimal(report.paths, locale=t),
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if "attribution" in specs:
        _chart(doc, specs["attribution"], render)
        pairs = [(p, c) for p, c, _ in report.attribution[REPORT_MODEL]]
        by_model = {m: {(p, c): v for p, c, v in rows} for m, rows in report.attribution.items()}
        rows = [
            [f"{p} · {text(t, CHANNEL_NAMES[c])}"]
            + [format_decimal(round(by_model[m].get((p, c), 0.0), 2), locale=t) for m in by_model]
            for p, c in pairs
        ]
        header = [text(t, "Partner · channel")] + [text(t, MODEL_NAMES[m]) for m in by_model]
        _table(doc, header, rows, (40, 14, 14, 14, 14, 16, 14, 14))
    return bytes(doc.output())


def _share_pp(value: float | None, locale: str) -> str:
    if value is None:
        return "—"
    return format_decimal(round(value * 100, 2), locale=locale) + " " + text(locale, "p.p.")


def _uplift_pages(
    doc: FPDF,
    report: Report,
    specs: dict[str, dict[str, Any]],
    render: Callable[[dict[str, Any]], bytes],
) -> None:
    """Uplift with its interval, then ROI with the diagnoses."""
    t = report.locale
    m = report.measurement
    _heading(doc, text(t, "Uplift"))
    if m is None:
        doc.multi_cell(0, 5, text(t, "Not measured: the campaign has no offer or no dates yet."))
        return
    if m.design != "holdout":
        doc.multi_cell(
            0,
            5,
            text(
                t,
                "There is no holdout: these figures compare the audience after the start with "
                "before it. That is weaker evidence than a control group.",
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )

    def pct(value: float | None) -> str:
        return "—" if value is None else format_percent(value, "#,##0.0%", locale=t)

    def money(value: float | None) -> str:
        return "—" if value is None else report.money(round(value))

    rows = []
    for label, est, shown in (
        (text(t, "Conversion"), m.conversion, pct),
        (text(t, "Revenue per customer"), m.revenue_per_customer, money),
    ):
        low, high = est.ci95 or (None, None)
        diff = _share_pp(est.difference, t) if shown is pct else money(est.difference)
        interval = (
            f"[{_share_pp(low, t)}; {_share_pp(high, t)}]"
            if shown is pct
            else f"[{money(low)}; {money(high)}]"
        )
        p = "—" if est.p_value is None else format_decimal(round(est.p_value, 4), locale=t)
        rows.append([label, shown(est.treatment), shown(est.holdout), diff, interval, p])
    control = text(t, "Holdout") if m.design == "holdout" else text(t, "Before")
    header = [text(t, "Indicator"), text(t, "With the offer"), control]
    header += [text(t, "Difference"), text(t, "%(level)s interval", level="95 %"), "p"]
    _table(doc, header, rows, (30, 22, 22, 24, 40, 12))
    for key in ("uplift_conversion", "uplift_revenue"):
        if key in specs:
            _chart(doc, specs[key], render)
    ret = report.returns
    if ret is None:
        return
    _heading(doc, text(t, "Return on investment"), keep=45)
    lines = [
        [text(t, "Incremental revenue"), report.money(ret.incremental_revenue_minor)],
        [text(t, "Incremental gross profit"), report.money(ret.incremental_gross_profit_minor)],
        [text(t, "Costs"), report.money(ret.total_costs_minor)],
        [text(t, "Net"), report.money(ret.net_minor)],
        [
            "ROI",
            "—" if ret.roi is None else format_percent(ret.roi, "#,##0.0%", locale=t),
        ],
    ]
    lines += [
        [f"{text(t, 'Net')}: {side.business}", report.money(side.net_minor)] for side in ret.sides
    ]
    _table(doc, [text(t, "Indicator"), text(t, "Value")], lines, (60, 40))
    for diagnosis in ret.diagnoses:
        if diagnosis in DIAGNOSES:
            doc.multi_cell(0, 5, text(t, DIAGNOSES[diagnosis]), new_x="LMARGIN", new_y="NEXT")
