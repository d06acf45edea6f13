"""The `crosspromo` command: crosspromo <domain> <verb>."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from crosspromo.accounts.cli import apikey_app, user_app
from crosspromo.campaigns.cli import campaigns_app, partnerships_app
from crosspromo.demo.cli import demo_app
from crosspromo.imports.cli import import_app
from crosspromo.leads.cli import leads_app
from crosspromo.loyalty.cli import loyalty_app
from crosspromo.matching.cli import partners_app
from crosspromo.measurement.attribution_cli import campaign_report, run_attribution
from crosspromo.measurement.cli import audience_command, measure_command
from crosspromo.measurement.kpi_cli import kpi_command
from crosspromo.messaging.cli import messages_app
from crosspromo.offers.cli import statements_app
from crosspromo.offers.distribution_cli import offers_app
from crosspromo.outbox.cli import outbox_app, run_worker
from crosspromo.overlap.cli import overlap_app
from crosspromo.pipeline.cli import pipeline_app
from crosspromo.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="crosspromo: cross-marketing between businesses.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(import_app, name="import")
app.add_typer(demo_app, name="demo")
app.add_typer(partners_app, name="partners")
app.add_typer(overlap_app, name="overlap")
app.add_typer(partnerships_app, name="partnerships")
app.add_typer(campaigns_app, name="campaigns")
app.command("worker")(run_worker)
app.command("kpi")(kpi_command)
app.add_typer(outbox_app, name="outbox")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(statements_app, name="statements")
app.add_typer(offers_app, name="offers")
app.add_typer(loyalty_app, name="loyalty")
app.add_typer(leads_app, name="leads")
app.add_typer(messages_app, name="messages")
app.command("attribution")(run_attribution)
campaigns_app.command("report")(campaign_report)
app.command("measure")(measure_command)
campaigns_app.command("audience")(audience_command)
console = Console()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    from crosspromo.migrate import upgrade

    url = get_settings().resolved_database_url()
    upgrade(url)
    console.print(f"[green]Database is up to date[/green] ({url.split('@')[-1]})")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision, e.g. "0010" or "base".')],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask; data may be lost.")] = False,
) -> None:
    """Undo migrations down to REVISION ("base" drops every table: the data goes too)."""
    from crosspromo.migrate import downgrade

    url = get_settings().resolved_database_url()
    if not yes:
        typer.confirm(f"Downgrade {url.split('@')[-1]} to {revision}? Data may be lost", abort=True)
    downgrade(url, revision)
    console.print(f"[green]Database is at {revision}[/green] ({url.split('@')[-1]})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    healthcheck_timeout: Annotated[
        int,
        typer.Option(
            min=1,
            max=600,
            help="Seconds a worker may take to answer the supervisor's health check (and to "
            "start) before it is killed and replaced.",
        ),
    ] = 60,
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    # uvicorn's default of 5 s kills workers still importing on a busy 2-core machine, and
    # their replacements too: a crash loop. Starting slowly is no reason to kill a worker.
    uvicorn.run(
        "crosspromo.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_worker_healthcheck=healthcheck_timeout,
    )
