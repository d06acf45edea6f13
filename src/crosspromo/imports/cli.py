"""`crosspromo import businesses|customers|transactions FILE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crosspromo.cli_support import engine_scope
from crosspromo.db import make_sessionmaker, unit_of_work
from crosspromo.errors import DomainError
from crosspromo.imports import service
from crosspromo.imports.service import ImportRejected, Summary
from crosspromo.settings import get_settings

import_app = typer.Typer(no_args_is_help=True, help="Import businesses, customers, transactions.")
console = Console(stderr=True)


def print_summary(summary: Summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, default=str, indent=2))
        return
    table = Table(
        title=f"{summary.kind}: {summary.filename}" + (" (dry run)" if summary.dry_run else "")
    )
    labels = {"inserted": "would insert", "updated": "would update"} if summary.dry_run else {}
    for column in ("rows", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(labels.get(column, column), justify="right")
    table.add_row(
        *(
            str(getattr(summary, c))
            for c in ("rows", "inserted", "updated", "unchanged", "rejected")
        )
    )
    console.print(table)
    if summary.mapping:
        pairs = ", ".join(f"{h} → {f or '—'}" for h, f in summary.mapping.items())
        console.print(f"columns: {pairs}")
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for error in summary.errors:
        console.print(f"[red]{error}[/red]")
    more = summary.error_count - len(summary.errors)
    if more > 0:
        console.print(f"[red]... and {more} more errors[/red]")


def import_file(
    kind: str,
    path: Path,
    business: str | None,
    dry_run: bool,
    as_json: bool,
    quiet: bool = False,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
) -> Summary:
    """Run one import with a progress bar; raises typer.Exit(1) when the file is rejected."""
    if not path.exists():
        console.print(f"[red]Error:[/red] no such file: {path}")
        raise typer.Exit(2)
    settings = get_settings()
    with engine_scope() as engine:
        sessions = make_sessionmaker(engine)
        with Progress(
            TextColumn(f"[bold]{kind}[/bold]"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TimeRemainingColumn(),
            console=console,
            disable=as_json or quiet,
            transient=True,
        ) as bar:
            task = bar.add_task(kind, total=path.stat().st_size, rows=0)

            def progress(rows: int, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, rows=rows)

            with unit_of_work(sessions) as session:
                try:
                    summary = service.run(
                        session,
                        kind=kind,
                        path=path,
                        business=business,
                        dry_run=dry_run,
                        date_format=date_format,
                        secret_key=settings.resolved_secret_key(),
                        progress=progress,
                        max_line_bytes=settings.import_max_line_bytes,
                        max_bytes=settings.import_max_bytes,
                        max_rows=settings.import_max_rows,
                        columns=columns,
                    )
                except ImportRejected as exc:
                    session.rollback()
                    print_summary(exc.summary, as_json)
                    raise typer.Exit(1) from None
                except DomainError as exc:
                    session.rollback()
                    console.print(f"[red]Error:[/red] {exc.detail}")
                    raise typer.Exit(2) from None
    if not quiet:
        print_summary(summary, as_json)
    return summary


def _pairs(given: list[str] | None) -> dict[str, str] | None:
    if not given:
        return None
    found: dict[str, str] = {}
    for pair in given:
        header, sep, field = pair.rpartition("=")
        if not sep or not header.strip():
            console.print(f'[red]Error:[/red] --map {pair!r}: write it as "Column=field"')
            raise typer.Exit(2)
        found[header.strip()] = field.strip()
    return found


def _command(kind: str) -> None:
    def command(
        file: Annotated[Path, typer.Argument(help="CSV, CSV.gz or XLSX file.")],
        business: Annotated[str | None, typer.Option(help="Only this business (its id).")] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Validate only; change nothing.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
        date_format: Annotated[
            str | None,
            typer.Option(
                "--date-format",
                help="How to read 01/02/2026: DD/MM/YYYY or MM/DD/YYYY (needed when ambiguous).",
            ),
        ] = None,
        pairs: Annotated[
            list[str] | None,
            typer.Option(
                "--map",
                help='Which column holds which field, e.g. --map "Дата=at" --map "Чек=id" '
                '("Колонка=" skips a column); other columns take the remembered or suggested '
                "mapping.",
            ),
        ] = None,
    ) -> None:
        import_file(
            kind, file, business, dry_run, as_json, date_format=date_format, columns=_pairs(pairs)
        )

    command.__doc__ = f"Import {kind} from a file (all or nothing)."
    import_app.command(kind)(command)


for _kind in service.KINDS:
    _command(_kind)
