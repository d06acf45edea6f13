"""`crosspromo leads list|route|stats --business SLUG`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.cli_support import business_by_slug, fail, operator, session_scope
from crosspromo.errors import DomainError
from crosspromo.leads import figures, service
from crosspromo.leads.models import Status
from crosspromo.web.deps import parse_uuid

leads_app = typer.Typer(no_args_is_help=True, help="Lead exchange: requests routed to partners.")
console = Console()

Business = Annotated[str, typer.Option("--business", help="Business id (slug).")]


@leads_app.command("list")
def list_leads(
    business: Business,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """The leads the business received or was offered, newest first."""
    with session_scope() as db:
        me = business_by_slug(db, business)
        found, more = service.list_leads(
            db, operator(me), me.id, status=status.value if status else None, limit=limit
        )
        rows = [
            (
                str(lead.id),
                service.local(lead.created_at, me),
                lead.category,
                lead.district,
                lead.status.value,
                service.local(lead.deadline_at, me) if lead.status is Status.offered else "",
                "" if lead.amount_minor is None else f"{lead.amount_minor} {lead.currency}",
            )
            for lead in found
        ]
    table = Table(title=f"Leads of {business}")
    for column in ("lead", "received", "need", "district", "status", "answer by", "won"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if more:
        console.print(f"[yellow]Showing the first {limit}; raise --limit for more.[/yellow]")


@leads_app.command("route")
def route(
    business: Business,
    lead: Annotated[str, typer.Argument(help="The lead's id.")],
    specialist: Annotated[
        str | None, typer.Option(help="A specialist's id, else the best.")
    ] = None,
) -> None:
    """Offer a waiting lead now, and say why that specialist."""
    with session_scope() as db:
        me = business_by_slug(db, business)
        try:
            offer = service.route_now(
                db,
                operator(me),
                parse_uuid(lead),
                specialist_id=parse_uuid(specialist) if specialist else None,
            )
        except DomainError as exc:
            fail(exc.detail)
        console.print(f"Offered to specialist {offer.specialist_id} (rank {offer.rank})")
        console.print(f"Answer by {service.local(offer.deadline_at, me)}")
        for name, value in offer.why.get("factors", {}).items():
            console.print(f"  {name}: {value}")


@leads_app.command("stats")
def stats(business: Business) -> None:
    """Response time, acceptance rate, win rate and revenue per partner and specialist."""
    with session_scope() as db:
        me = business_by_slug(db, business)
        found = figures.figures(db, operator(me), me.id)

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value:.0%}"

    table = Table(title=f"Lead figures of {business}")
    for column in (
        "",
        "name",
        "offered",
        "accepted",
        "response, min",
        "won",
        "win rate",
        "revenue",
    ):
        table.add_column(column)
    for f in found:
        table.add_row(
            f.who,
            f.name,
            str(f.offered),
            pct(f.acceptance_rate),
            "" if f.response_minutes is None else f"{f.response_minutes:.0f}",
            str(f.won),
            pct(f.win_rate),
            ", ".join(f"{amount / 100:.2f} {c}" for c, amount in sorted(f.revenue.items())),
        )
    console.print(table)
