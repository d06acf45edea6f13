"""`crosspromo measure CAMPAIGN_ID` and `crosspromo campaigns audience CAMPAIGN_ID`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.cli_support import business_by_slug, fail, operator, session_scope
from crosspromo.errors import DomainError
from crosspromo.measurement import audience as audiences
from crosspromo.measurement.roi import roi
from crosspromo.measurement.uplift import measure
from crosspromo.web.deps import parse_uuid

console = Console()


def _campaign_id(text: str) -> object:
    try:
        return parse_uuid(text)
    except DomainError:
        fail(f"{text!r} is not a campaign id.")


def measure_command(
    campaign: Annotated[str, typer.Argument(help="the campaign's id")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    with_roi: Annotated[bool, typer.Option("--roi/--no-roi", help="add the ROI")] = True,
) -> None:
    """Uplift of a campaign: treatment against holdout, with 95 % intervals (and ROI)."""
    campaign_id = _campaign_id(campaign)
    try:
        with session_scope() as db:
            measured = measure(db, campaign_id=campaign_id)  # type: ignore[arg-type]
            body = measured.as_json()
            if with_roi:
                body["roi"] = roi(db, campaign_id=measured.campaign_id, measured=measured).as_json()
    except DomainError as exc:
        fail(exc.detail)
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return
    table = Table("metric", "treatment", "holdout", "difference", "95% CI", "p", "method")
    for name in ("conversion", "revenue_per_customer", "receipts_per_customer"):
        row = body[name]
        ci = row["ci95"] or [None, None]
        table.add_row(
            name,
            *(str(row[k]) for k in ("treatment", "holdout", "difference")),
            f"{ci[0]} .. {ci[1]}",
            str(row["p_value"]),
            row["method"],
        )
    console.print(table)
    console.print(f"evidence: {body['evidence']}; srm: {body['srm']}")


def audience_command(
    campaign: Annotated[str, typer.Argument(help="the campaign's id")],
    business: Annotated[str, typer.Option(help="the issuing business's id (slug)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The issuer's customers in the campaign's audience and their arm (treatment/holdout)."""
    campaign_id = _campaign_id(campaign)
    rows: list[dict[str, str]] = []
    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            cursor: str | None = None
            while True:
                page, cursor = audiences.members(
                    db,
                    operator(mine),
                    campaign_id,  # type: ignore[arg-type]
                    business_id=mine.id,
                    limit=5_000,
                    cursor=cursor,
                )
                rows += [{"customer": c, "arm": a.value} for c, a in page]
                if cursor is None:
                    break
    except DomainError as exc:
        fail(exc.detail)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("customer", "arm")
    for row in rows:
        table.add_row(row["customer"], row["arm"])
    console.print(table)
