"""`crosspromo offers print|codes`: coupon PDFs for the cash desk and CSV for a newsletter."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crosspromo import paging, spreadsheets
from crosspromo.cli_support import business_by_slug, fail, operator, session_scope
from crosspromo.errors import DomainError
from crosspromo.offers import distribution, service
from crosspromo.roles import Role
from crosspromo.settings import get_settings

offers_app = typer.Typer(no_args_is_help=True, help="Offers: print coupons, export codes.")
console = Console(stderr=True)


def _offer_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        fail(f"{text!r} is not an offer id.")


@offers_app.command("print")
def print_coupons(
    offer_id: Annotated[str, typer.Argument(help="the offer's id")],
    business: Annotated[str, typer.Option(help="the business id (slug) printing")],
    out: Annotated[Path, typer.Option("--out", "--output", "-o", help="the PDF to write")],
    layout: Annotated[str, typer.Option(help="a4 (10 per sheet) or card (85 x 55 mm)")] = "a4",
    locale: Annotated[str, typer.Option(help="en or ru")] = "en",
    limit: Annotated[
        int | None, typer.Option(help=f"at most {distribution.MAX_COUPONS:,} per file")
    ] = None,
    after: Annotated[str, typer.Option(help="start after this code (the last printed)")] = "",
) -> None:
    """A PDF of cut-out coupons with QR codes for the offer's usable codes, on every core.

    The print is recorded as a print job (its page and API show it too) and run here with a
    progress bar; `crosspromo worker` is not needed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from crosspromo.cli_support import engine_scope
    from crosspromo.db import make_sessionmaker, unit_of_work
    from crosspromo.offers import print_jobs

    if layout not in ("a4", "card"):
        fail("Use --layout a4 or --layout card.")
    with engine_scope() as engine:
        factory = make_sessionmaker(engine)
        try:
            with unit_of_work(factory) as db:
                mine = business_by_slug(db, business)
                job_id = print_jobs.start(
                    db,
                    operator(mine),
                    _offer_id(offer_id),
                    layout=layout,
                    locale=locale,
                    limit=limit,
                    after=after,
                    public_url=get_settings().public_url,
                    queue=False,
                ).id
        except DomainError as exc:
            fail(exc.detail)
        columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("Printing coupons", total=None)
            print_jobs.run(
                factory,
                job_id,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        with unit_of_work(factory) as db:
            job = print_jobs.load(db, job_id)
            if job.error:
                fail(job.error)
            out.write_bytes(print_jobs.pdf(job))
            count, next_after = job.total, job.next_after
    console.print(f"[green]{count} coupons[/green] written to {out}")
    if next_after:
        console.print(f"More remain: run again with --after {next_after}")


@offers_app.command("codes")
def export_codes(
    offer_id: Annotated[str, typer.Argument(help="the offer's id")],
    business: Annotated[str, typer.Option(help="the business id (slug) exporting")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line")] = False,
    out: Annotated[Path | None, typer.Option("--output", "-o", help="file; default stdout")] = None,
) -> None:
    """Every code of the offer, a page at a time, e.g. for a partner's newsletter."""
    handle = out.open("w", newline="", encoding="utf-8") if out else None
    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            offer = service.get_offer(db, operator(mine), _offer_id(offer_id), need=Role.manager)
            target = handle or typer.get_text_stream("stdout")
            writer = spreadsheets.Writer(target) if as_csv else None
            if writer:
                writer.writerow(["code", "kind", "uses", "max_uses", "label", "url"])
            cursor: str | None = None
            written = 0
            public_url = get_settings().public_url
            while True:
                page = service.list_codes(db, offer, limit=1000, cursor=cursor)
                for code in page:
                    shown = distribution.display_code(code, offer)
                    if writer:
                        url = distribution.code_url(code, public_url)
                        max_uses = "" if code.max_uses is None else code.max_uses
                        writer.writerow(
                            [shown, code.kind.value, code.uses, max_uses, code.label, url]
                        )
                    else:
                        target.write(shown + "\n")
                written += len(page)
                if len(page) < 1000:
                    break
                cursor = paging.encode(service.code_key(page[-1]))
    except DomainError as exc:
        fail(exc.detail)
    finally:
        if handle:
            handle.close()
    if out:
        console.print(f"[green]{written} codes[/green] written to {out}")
