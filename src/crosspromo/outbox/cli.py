"""`crosspromo worker`: deliver e-mail and webhooks from the outbox, run periodic jobs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from crosspromo.cli_support import engine_scope, session_scope
from crosspromo.db import make_sessionmaker
from crosspromo.outbox import service, worker
from crosspromo.settings import get_settings

console = Console()


def jobs() -> None:
    """Register the periodic jobs (kept here so the outbox knows no capability)."""
    from crosspromo.campaigns.service import remind_due
    from crosspromo.loyalty.service import expire
    from crosspromo.offers.webhooks import send

    for job in (remind_due, expire):
        if job not in worker.JOBS:
            worker.JOBS.append(job)
    worker.SENDERS["webhook"] = send


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
