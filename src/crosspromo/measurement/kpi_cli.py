"""`crosspromo kpi BUSINESS --from DATE --to DATE --by week [--json]`."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo import locale_input
from crosspromo.cli_support import business_by_slug, fail, session_scope
from crosspromo.errors import DomainError
from crosspromo.measurement.kpi import kpis

console = Console()


def _day(text: str, name: str) -> date:
    try:
        return locale_input.parse_date(text)
    except locale_input.InputError as exc:
        fail(f"--{name}: {exc}")


def kpi_command(
    business: Annotated[str, typer.Argument(help="the business id (slug)")],
    start: Annotated[
        str, typer.Option("--from", help="first local day (2026-01-01 or 01.01.2026)")
    ],
    end: Annotated[str, typer.Option("--to", help="last local day")],
    by: Annotated[str, typer.Option(help="day, week, month or quarter")] = "week",
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of periods")] = False,
) -> None:
    """A business's KPIs per period in its own time zone, with comparisons."""
    first, last = _day(start, "from"), _day(end, "to")
    with session_scope() as db:
        found = business_by_slug(db, business)
        try:
            rows = [
                k.as_json() for k in kpis(db, business_id=found.id, start=first, end=last, by=by)
            ]
        except DomainError as exc:
            fail(exc.detail, 2)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table("start", "end", "customers", "new", "receipts", "revenue", "avg check", "repeat")
    for r in rows:
        table.add_row(
            r["start"] + ("*" if r["partial"] else ""),
            r["end"],
            str(r["customers"]),
            str(r["new_customers"]),
            str(r["receipts"]),
            f"{r['revenue_minor'] / 100:,.2f} {r['currency']}",
            f"{r['avg_check_minor'] / 100:,.2f}",
            f"{r['repeat_share']:.1%}",
        )
    console.print(table)
    console.print("* partial period")
