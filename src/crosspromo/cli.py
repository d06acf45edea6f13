"""The `crosspromo` command: crosspromo <domain> <verb>.

Sub-commands are imported when they run, not when the command starts: `crosspromo --help`
and a cashier's script calling one command load only what that command needs (the demo's and
matching's statistics libraries took seconds). `LAZY` names each sub-command's module and its
one-line help, shown in `--help` without importing it (tests/test_cli_startup.py checks both).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup


def _campaigns() -> Any:
    from crosspromo.campaigns.cli import campaigns_app
    from crosspromo.measurement.attribution_cli import campaign_report
    from crosspromo.measurement.cli import audience_command

    if all(c.name not in ("report", "audience") for c in campaigns_app.registered_commands):
        campaigns_app.command("report")(campaign_report)
        campaigns_app.command("audience")(audience_command)
    return campaigns_app


def _attr(target: str) -> Callable[[], Any]:
    module, _, name = target.partition(":")
    return lambda: getattr(importlib.import_module(module), name)


# name -> (loader of its Typer app or command function, one-line help)
LAZY: dict[str, tuple[Callable[[], Any], str]] = {
    "user": (_attr("crosspromo.accounts.cli:user_app"), "Users."),
    "apikey": (_attr("crosspromo.accounts.cli:apikey_app"), "API keys."),
    "import": (
        _attr("crosspromo.imports.cli:import_app"),
        "Import businesses, customers, transactions.",
    ),
    "demo": (_attr("crosspromo.demo.cli:demo_app"), "The demo city."),
    "partners": (_attr("crosspromo.matching.cli:partners_app"), "Find partners."),
    "overlap": (_attr("crosspromo.overlap.cli:overlap_app"), "Shared audiences, privately."),
    "partnerships": (
        _attr("crosspromo.campaigns.cli:partnerships_app"),
        "Proposals and agreements.",
    ),
    "campaigns": (_campaigns, "Joint promotions: list and export."),
    "worker": (
        _attr("crosspromo.outbox.cli:run_worker"),
        "Send what the outbox holds (retrying with backoff) and run reminders; Ctrl-C stops.",
    ),
    "kpi": (
        _attr("crosspromo.measurement.kpi_cli:kpi_command"),
        "A business's KPIs per period in its own time zone, with comparisons.",
    ),
    "outbox": (
        _attr("crosspromo.outbox.cli:outbox_app"),
        "The outbox of e-mails and webhooks.",
    ),
    "pipeline": (_attr("crosspromo.pipeline.cli:pipeline_app"), "Partner pipeline."),
    "statements": (
        _attr("crosspromo.offers.cli:statements_app"),
        "Statements between partners.",
    ),
    "offers": (
        _attr("crosspromo.offers.distribution_cli:offers_app"),
        "Offers: print coupons, export codes.",
    ),
    "loyalty": (
        _attr("crosspromo.loyalty.cli:loyalty_app"),
        "Coalition loyalty: points and clearing.",
    ),
    "leads": (
        _attr("crosspromo.leads.cli:leads_app"),
        "Lead exchange: requests routed to partners.",
    ),
    "messages": (
        _attr("crosspromo.messaging.cli:messages_app"),
        "Messages to consenting contacts.",
    ),
    "attribution": (
        _attr("crosspromo.measurement.attribution_cli:run_attribution"),
        "A campaign's conversions credited per partner and channel by one attribution model.",
    ),
    "measure": (
        _attr("crosspromo.measurement.cli:measure_command"),
        "Uplift of a campaign: treatment against holdout, with 95 % intervals (and ROI).",
    ),
}


def load(name: str) -> Any:
    """The real command of a lazy sub-command (its module imported now), as `add_typer` or
    `command` on the root would have made it (a group of one command stays a group)."""
    loader, _ = LAZY[name]
    found = loader()
    if isinstance(found, typer.Typer):
        root = typer.Typer()
        root.add_typer(found, name=name)
        return typer.main.get_command(root).commands[name]  # type: ignore[attr-defined]
    single = typer.Typer()
    single.command(name)(found)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """The root group: lists every sub-command, imports one only when it is run."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands) + [n for n in LAZY if n not in self.commands]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in LAZY:
            return self.commands.get(cmd_name)
        # For the listing in --help: the name and help only.
        return TyperCommand(cmd_name, help=LAZY[cmd_name][1])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in LAZY and args[0] not in self.commands:
            self.add_command(load(args[0]), args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="crosspromo: cross-marketing between businesses.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")


def _print(text: str) -> None:
    from rich.console import Console

    Console().print(text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    from crosspromo.migrate import upgrade
    from crosspromo.settings import get_settings

    url = get_settings().resolved_database_url()
    upgrade(url)
    _print(f"[green]Database is up to date[/green] ({url.split('@')[-1]})")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision, e.g. "0010" or "base".')],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask; data may be lost.")] = False,
) -> None:
    """Undo migrations down to REVISION ("base" drops every table: the data goes too)."""
    from crosspromo.migrate import downgrade
    from crosspromo.settings import get_settings

    url = get_settings().resolved_database_url()
    if not yes:
        typer.confirm(f"Downgrade {url.split('@')[-1]} to {revision}? Data may be lost", abort=True)
    downgrade(url, revision)
    _print(f"[green]Database is at {revision}[/green] ({url.split('@')[-1]})")


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
