"""`crosspromo statements show --business SLUG --partner SLUG --start --end [--format -o]`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.cli_support import business_by_slug, fail, operator, session_scope
from crosspromo.errors import DomainError
from crosspromo.offers import statement_files, statements
from crosspromo.web.i18n import LOCALES

statements_app = typer.Typer(no_args_is_help=True, help="Statements between partners.")
console = Console()


def _day(text: str, name: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        fail(f"--{name} takes a date as YYYY-MM-DD, not {text!r}.")


@statements_app.command("show")
def show(
    business: Annotated[str, typer.Option("--business", help="Your business id (slug).")],
    partner: Annotated[str, typer.Option("--partner", help="The partner's id (slug).")],
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day (included), YYYY-MM-DD.")],
    format: Annotated[str, typer.Option("--format", help="table, csv or pdf.")] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="PDF labels: en or ru.")] = "en",
) -> None:
    """What the business and the partner owe each other for the period, and the net."""
    if format not in ("table", "csv", "pdf"):
        fail("--format takes table, csv or pdf.")
    if format == "pdf" and output is None:
        fail("A PDF needs -o FILE.")
    if lang not in LOCALES:
        fail("--lang takes en or ru.")
    first, last = _day(start, "start"), _day(end, "end")
    with session_scope() as db:
        me = business_by_slug(db, business)
        other = business_by_slug(db, partner)
        try:
            found = statements.statement(db, operator(me), me.id, other.id, first, last, limit=0)
        except DomainError as exc:
            fail(exc.detail)
        if format == "csv":
            text = statement_files.to_csv(db, found)
            if output is None:
                typer.echo(text, nl=False)
            else:
                output.write_text(text, encoding="utf-8")
        elif format == "pdf" and output is not None:
            output.write_bytes(statement_files.to_pdf(db, found, lang))
        else:
            table = Table(title=f"{me.name} ↔ {other.name}, {first} — {last}")
            for column in ("date", "kind", "offer", "order", "amount", "currency", "direction"):
                table.add_column(column)
            for line in statements.every_line(db, found):
                table.add_row(
                    line.on.isoformat(),
                    line.kind,
                    line.offer_title,
                    "" if line.order_minor is None else str(line.order_minor),
                    str(line.amount_minor),
                    line.currency,
                    line.direction,
                )
            console.print(table)
            for total in found.totals:
                console.print(
                    f"{total.currency}: receivable {total.receivable} · payable "
                    f"{total.payable} · net {total.net} (minor units)"
                )
    if output is not None:
        console.print(f"[green]Wrote[/green] {output}")
