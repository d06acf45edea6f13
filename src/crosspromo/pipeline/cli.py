"""`crosspromo pipeline list|due|sync --business SLUG`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.cli_support import business_by_slug, session_scope
from crosspromo.pipeline import service
from crosspromo.pipeline.models import Stage
from crosspromo.roles import Actor, Role

pipeline_app = typer.Typer(no_args_is_help=True, help="Partner pipeline.")
console = Console()

Business = Annotated[str, typer.Option("--business", help="Business id (slug).")]


@pipeline_app.command("list")
def list_entries(
    business: Business,
    stage: Annotated[Stage | None, typer.Option(help="Only this stage.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 200,
) -> None:
    """The pipeline by stage."""
    with session_scope() as db:
        me = business_by_slug(db, business)
        actor = Actor(key_business_id=me.id, key_role=Role.owner)
        entries, more = service.list_entries(db, actor, business_id=me.id, stage=stage, limit=limit)
        counts = service.stage_counts(db, actor, business_id=me.id)
        rows = [
            (
                e.stage.value,
                e.partner_name,
                e.contact,
                e.next_follow_up_on.isoformat() if e.next_follow_up_on else "",
                "yes" if e.proposal_id else "",
            )
            for e in sorted(entries, key=lambda e: list(Stage).index(e.stage))
        ]
    table = Table(title=f"Pipeline of {business}")
    for column in ("stage", "partner", "contact", "follow-up", "proposal"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(" · ".join(f"{s.value} {n}" for s, n in counts.items()))
    if more:
        console.print(f"[yellow]Showing the first {limit}; raise --limit for more.[/yellow]")


@pipeline_app.command("due")
def due(
    business: Business,
    today: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD; default: today where the business is")
    ] = None,
) -> None:
    """Follow-ups due today or overdue."""
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        console.print(f"[red]Error:[/red] {today!r} is not a date (YYYY-MM-DD).")
        raise typer.Exit(1) from None
    with session_scope() as db:
        me = business_by_slug(db, business)
        actor = Actor(key_business_id=me.id, key_role=Role.owner)
        day = day or service.local_today(me)
        entries, _ = service.due_follow_ups(db, actor, me.id, day, limit=200)
        rows = [
            (
                e.next_follow_up_on.isoformat() if e.next_follow_up_on else "",
                e.partner_name,
                e.stage.value,
                e.contact,
            )
            for e in entries
        ]
    table = Table(title=f"Due by {day} for {business}")
    for column in ("follow-up", "partner", "stage", "contact"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table if rows else "Nothing is due.")


@pipeline_app.command("sync")
def sync(business: Business) -> None:
    """Give every open or agreed proposal its entry (for proposals made before entries
    followed them; new proposals move their entries as they change)."""
    with session_scope() as db:
        me = business_by_slug(db, business)
        service.sync(db, Actor(key_business_id=me.id, key_role=Role.owner), business_id=me.id)
    console.print(f"The pipeline of {business} follows its proposals.")
