"""`crosspromo worker`: deliver e-mail and webhooks from the outbox, run print jobs and
periodic jobs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from crosspromo.cli_support import engine_scope, session_scope
from crosspromo.db import make_sessionmaker
from crosspromo.outbox import service, worker
from crosspromo.settings import get_settings

console = Console()
outbox_app = typer.Typer(no_args_is_help=True, help="The outbox of e-mails and webhooks.")


def jobs() -> None:
    """Register the periodic jobs (kept here so the outbox knows no capability)."""
    from crosspromo.campaigns.service import remind_due
    from crosspromo.leads.service import remind_and_move_on
    from crosspromo.loyalty.service import expire
    from crosspromo.matching.scheduled import relearn
    from crosspromo.messaging.delivery import register
    from crosspromo.offers import print_jobs
    from crosspromo.offers.webhooks import prepare, send

    for job in (remind_due, expire, relearn, remind_and_move_on, print_jobs.purge):
        if job not in worker.JOBS:
            worker.JOBS.append(job)
    worker.SENDERS["webhook"] = send
    worker.PREPARERS["webhook"] = prepare
    worker.TASKS[print_jobs.KIND] = print_jobs.run_message
    register()


def run_worker(
    once: Annotated[bool, typer.Option(help="one round, then exit")] = False,
    interval: Annotated[float, typer.Option(help="seconds between rounds")] = 5.0,
    status: Annotated[bool, typer.Option(help="print the outbox counts and exit")] = False,
) -> None:
    """Send what the outbox holds (retrying with backoff) and run reminders; Ctrl-C stops."""
    if status:
        with session_scope() as db:
            for name, count in sorted(service.counts(db).items()):
                console.print(f"{name}: {count}")
        return
    settings = get_settings()
    jobs()
    if not settings.smtp_host:
        console.print("[yellow]No CROSSPROMO_SMTP_HOST: e-mails are marked skipped.[/yellow]")
    with engine_scope() as engine:
        try:
            worker.run(make_sessionmaker(engine), settings, interval=interval, once=once)
        except KeyboardInterrupt:
            console.print("Stopped.")


@outbox_app.command("purge")
def purge(
    days: Annotated[
        int | None,
        typer.Option(
            min=1, max=3650, help="keep this many days; default CROSSPROMO_OUTBOX_KEEP_DAYS"
        ),
    ] = None,
) -> None:
    """Delete sent and skipped messages older than the kept days (the worker does it hourly)."""
    settings = get_settings()
    if days is not None:
        settings = settings.model_copy(update={"outbox_keep_days": days})
    with engine_scope() as engine:
        gone = worker.purge(make_sessionmaker(engine), settings)
    console.print(f"Purged {gone} sent messages older than {settings.outbox_keep_days} days.")
