"""Charts an owner reads without help: Vega-Lite specs built with Altair.

One spec serves the page (embedded by static/charts.js with the vendored vega-embed) and the
printed report (rendered to SVG or PNG by vl-convert). Every chart has titled axes and its
values written on the marks; texts arrive already translated, so this module knows no locale.
Dates arrive as labels formatted by Babel: Vega would otherwise read `2026-10-26` as UTC
midnight and show it in the browser's zone, a day early west of Greenwich.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

PRIMARY = "#1f6feb"
MUTED = "#9aa7b4"
WARM = "#d9822b"
WIDTH = 560


@dataclass(frozen=True)
class Bar:
    """One period: its label, its value, the value to compare with, whether it is partial."""

    label: str
    value: float
    previous: float | None = None
    partial: bool = False
    shown: str = ""  # the value as written on the bar, e.g. "12 400 ₽"


def _base(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    spec.setdefault("config", {})
    spec["config"]["view"] = {"stroke": None}
    spec["config"]["font"] = "DejaVu Sans, Helvetica, Arial, sans-serif"
    return spec


def weekly(
    bars: Sequence[Bar],
    *,
    title: str,
    axis_x: str,
    axis_y: str,
    current: str,
    previous: str,
    partial: str,
) -> dict[str, Any]:
    """Bars per week with their values, the previous period as a line, partial weeks pale."""
    rows = [
        {
            "label": b.label,
            "order": i,
            "value": b.value,
            "shown": b.shown or f"{b.value:,.0f}",
            "previous": b.previous,
            "kind": partial if b.partial else current,
        }
        for i, b in enumerate(bars)
    ]
    data = alt.Data(values=rows)
    x = alt.X(
        "label:N",
        sort=alt.EncodingSortField("order", op="min"),
        title=axis_x,
        axis=alt.Axis(labelAngle=0 if len(bars) <= 8 else -45),
    )
    colour = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(domain=[current, partial, previous], range=[PRIMARY, MUTED, WARM]),
        legend=alt.Legend(orient="top"),
    )
    columns = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("value:Q", title=axis_y),
            color=colour,
            tooltip=[alt.Tooltip("label:N", title=axis_x), alt.Tooltip("shown:N", title=axis_y)],
        )
    )
    values = (
        alt.Chart(data)
        .mark_text(dy=-6, fontSize=10)
        .encode(x=x, y=alt.Y("value:Q"), text="shown:N")
    )
    layers: list[Any] = [columns, values]
    if any(b.previous is not None for b in bars):
        line = (
            alt.Chart(data)
            .transform_filter("datum.previous != null")
            .transform_calculate(kind=json.dumps(previous))
            .mark_line(point=True, strokeDash=[4, 3])
            .encode(x=x, y=alt.Y("previous:Q"), color=colour)
        )
        layers.append(line)
    chart = alt.layer(*layers).properties(title=title, width=WIDTH, height=220)
    return _base(chart)


@dataclass(frozen=True)
class Step:
    label: str
    count: int


def funnel(steps: Sequence[Step], *, title: str, axis_x: str) -> dict[str, Any]:
    """Horizontal bars from issued to came back, each with its count and share of the first."""
    top = steps[0].count if steps and steps[0].count else 0
    rows = [
        {
            "step": s.label,
            "order": i,
            "count": s.count,
            "shown": f"{s.count:,}" + (f" ({s.count / top:.0%})" if top and i else ""),
        }
        for i, s in enumerate(steps)
    ]
    data = alt.Data(values=rows)
    y = alt.Y("step:N", sort=alt.EncodingSortField("order", op="min"), title=None)
    bars = (
        alt.Chart(data)
        .mark_bar(color=PRIMARY)
        .encode(
            y=y,
            x=alt.X("count:Q", title=axis_x, scale=alt.Scale(domain=[0, max(1, top) * 1.25])),
            tooltip=["step:N", "shown:N"],
        )
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(y=y, x=alt.X("count:Q"), text="shown:N")
    )
    return _base(alt.layer(bars, text).properties(title=title, width=WIDTH - 120, height=140))


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95 % interval, e.g. the difference in conversion in points."""

    label: str
    estimate: float
    low: float
    high: float
    shown: str = ""


def interval(rows: Sequence[Interval], *, title: str, axis_x: str) -> dict[str, Any]:
    """Estimates as dots with their intervals as whiskers, and the zero line of "no effect"."""
    values = [
        {
            "label": r.label,
            "estimate": r.estimate,
            "low": r.low,
            "high": r.high,
            "shown": r.shown or f"{r.estimate:+.2f} [{r.low:+.2f}; {r.high:+.2f}]",
        }
        for r in rows
    ]
    data = alt.Data(values=values)
    y = alt.Y("label:N", title=None)
    whisker = (
        alt.Chart(data)
        .mark_rule(color=PRIMARY, strokeWidth=2)
        .encode(y=y, x=alt.X("low:Q", title=axis_x), x2="high:Q")
    )
    dot = (
        alt.Chart(data)
        .mark_point(filled=True, size=80, color=PRIMARY)
        .encode(y=y, x="estimate:Q", tooltip=["label:N", "shown:N"])
    )
    text = (
        alt.Chart(data).mark_text(dy=-12, fontSize=11).encode(y=y, x="estimate:Q", text="shown:N")
    )
    zero = alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color=MUTED).encode(x="zero:Q")
    height = 60 * max(1, len(rows))
    return _base(
        alt.layer(zero, whisker, dot, text).properties(
            title=title, width=WIDTH - 120, height=height
        )
    )


def shares(rows: Sequence[tuple[str, float]], *, title: str, axis_x: str) -> dict[str, Any]:
    """Credited conversions per partner or channel as labelled bars."""
    values = [
        {"name": name, "value": value, "shown": f"{value:,.2f}", "order": i}
        for i, (name, value) in enumerate(rows)
    ]
    data = alt.Data(values=values)
    y = alt.Y("name:N", sort=alt.EncodingSortField("order", op="min"), title=None)
    bars = (
        alt.Chart(data)
        .mark_bar(color=PRIMARY)
        .encode(y=y, x=alt.X("value:Q", title=axis_x), tooltip=["name:N", "shown:N"])
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(y=y, x="value:Q", text="shown:N")
    )
    height = 26 * max(1, len(rows))
    return _base(alt.layer(bars, text).properties(title=title, width=WIDTH - 120, height=height))


def as_json(spec: dict[str, Any]) -> str:
    """The spec for a `<script type="application/json">`: `</` cannot close the script."""
    return json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")


def svg(spec: dict[str, Any]) -> str:
    """The chart as SVG, rendered in-process by vl-convert (no browser)."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(spec))


def png(spec: dict[str, Any], scale: float = 2.0) -> bytes:
    """The chart as PNG, for the printed report."""
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(spec, scale=scale))
