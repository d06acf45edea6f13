"""`crosspromo attribution CAMPAIGN_ID --model markov --json`: who brought the conversions."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign
from crosspromo.cli_support import business_by_slug, fail, operator, session_scope
from crosspromo.errors import DomainError
from crosspromo.measurement import attribution
from crosspromo.measurement.attribution_api import out

console = Console()


def campaign_id_of(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        fail(f"Not a campaign id: {text!r}", 2)


def run_attribution(
    campaign: Annotated[str, typer.Argument(help="the campaign's id")],
    model: Annotated[
        str, typer.Option(help="first, last, linear, time_decay, position, markov or shapley")
    ] = "markov",
    half_life_days: Annotated[
        float,
        typer.Option(min=0.01, max=365, help="time-decay: days for a touch's weight to halve"),
    ] = 7.0,
    business: Annotated[
        str | None, typer.Option(help="read as this member business (slug); default: operator")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """A campaign's conversions credited per partner and channel by one attribution model."""
    if model not in attribution.MODELS:
        fail(f"--model is one of {', '.join(attribution.MODELS)}", 2)
    campaign_id = campaign_id_of(campaign)
    with session_scope() as db:
        try:
            if business:
                campaigns.get(db, operator(business_by_slug(db, business)), campaign_id)
            elif db.get(Campaign, campaign_id) is None:
                fail(f"No campaign {campaign}.")
            found = attribution.attribute(
                db, campaign_id=campaign_id, model=model, half_life=timedelta(days=half_life_days)
            )
        except DomainError as exc:
            fail(exc.detail)
        body = out(found)
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return
    table = Table("partner", "channel", "conversions", "share")
    for row in body["credits"]:
        table.add_row(
            row["partner"], row["channel"], f"{row['conversions']:.2f}", f"{row['share']:.0%}"
        )
    console.print(
        f"{body['model']}: {body['converting_paths']} converting of {body['paths']} paths"
    )
    console.print(table)


def campaign_report(
    campaign: Annotated[str, typer.Argument(help="the campaign's id")],
    lang: Annotated[str, typer.Option(help="en or ru")] = "en",
    output: Annotated[Path, typer.Option("-o", help="the file to write (.pdf or .csv)")] = Path(
        "report.pdf"
    ),
    business: Annotated[
        str | None, typer.Option(help="read as this member business (slug); default: operator")
    ] = None,
) -> None:
    """Print a campaign's report to PDF (or its figures to CSV when the file ends in .csv)."""
    from crosspromo.measurement import report

    if lang not in report.LOCALES:
        fail("--lang is en or ru", 2)
    campaign_id = campaign_id_of(campaign)
    with session_scope() as db:
        try:
            if business:
                campaigns.get(db, operator(business_by_slug(db, business)), campaign_id)
            elif db.get(Campaign, campaign_id) is None:
                fail(f"No campaign {campaign}.")
            found = report.build(db, campaign_id=campaign_id, locale=lang)
        except DomainError as exc:
            fail(exc.detail)
    if output.suffix.lower() == ".csv":
        output.write_text(report.csv_text(found), encoding="utf-8-sig")
    else:
        output.write_bytes(report.pdf(found))
    console.print(f"Wrote {output}")
