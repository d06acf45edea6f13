"""`crosspromo campaigns ...` and `crosspromo partnerships list`: scripting the plan."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo import spreadsheets
from crosspromo.businesses import service as businesses
from crosspromo.campaigns import api, calendar, service
from crosspromo.cli_support import business_by_slug, fail, operator, session_scope
from crosspromo.errors import DomainError
from crosspromo.partnerships import service as partnerships

campaigns_app = typer.Typer(no_args_is_help=True, help="Joint promotions: list and export.")
partnerships_app = typer.Typer(no_args_is_help=True, help="Proposals and agreements.")
console = Console()


@partnerships_app.command("list")
def list_partnerships(
    business: Annotated[str, typer.Option(help="the business id (slug)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """A business's proposals and agreements, newest first."""
    with session_scope() as db:
        mine = business_by_slug(db, business)
        found = partnerships.list_for(db, operator(mine), business_id=mine.id, limit=200)
        names = {
            b.id: b.name
            for b in businesses.by_ids(
                db, {p.from_business_id for p in found} | {p.to_business_id for p in found}
            )
        }
        rows = [
            {
                "id": str(p.id),
                "from": names.get(p.from_business_id, ""),
                "to": names.get(p.to_business_id, ""),
                "status": p.status.value,
                "current_version": p.current_version,
                "agreed_version": p.agreed_version,
                "created_at": p.created_at.isoformat(),
            }
            for p in found
        ]
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table("id", "from", "to", "status", "version", "agreed")
    for row in rows:
        table.add_row(
            *(str(row[k] or "") for k in ("id", "from", "to", "status")),
            str(row["current_version"]),
            str(row["agreed_version"] or ""),
        )
    console.print(table)


@campaigns_app.command("list")
def list_campaigns(
    business: Annotated[str, typer.Option(help="the business id (slug)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """A business's campaigns with their stage and dates."""
    with session_scope() as db:
        mine = business_by_slug(db, business)
        found = service.list_for(db, operator(mine), business_id=mine.id, limit=200)
        rows = [api.out(db, c, full=False) | {"business_id": str(mine.id)} for c in found]
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table("id", "title", "stage", "starts", "ends")
    for row in rows:
        table.add_row(row["id"], row["title"], row["stage"], row["starts_on"], row["ends_on"])
    console.print(table)


@campaigns_app.command("export")
def export(
    campaign: Annotated[str, typer.Argument(help="the campaign's id")],
    business: Annotated[str, typer.Option(help="a member business's id (slug)")],
    format: Annotated[str, typer.Option(help="ics, json or csv (the tasks)")] = "ics",
    output: Annotated[Path | None, typer.Option("-o", help="file; default stdout")] = None,
) -> None:
    """Export a campaign: calendar (.ics), the whole plan (JSON) or its tasks (CSV)."""
    if format not in ("ics", "json", "csv"):
        fail("--format is one of ics, json, csv", 2)
    import uuid

    try:
        campaign_id = uuid.UUID(campaign)
    except ValueError:
        fail(f"Not a campaign id: {campaign!r}", 2)
    with session_scope() as db:
        mine = business_by_slug(db, business)
        try:
            found, _ = service.get(db, operator(mine), campaign_id)
        except DomainError as exc:
            fail(exc.detail)
        members = businesses.by_ids(db, set(service.member_ids(db, found.id)))
        names = {m.id: m.name for m in members}
        tasks = service.tasks(db, found.id, limit=1_000_000)
        if format == "ics":
            data = calendar.ics(found, tasks, names)
        elif format == "json":
            body = api.out(db, found) | {"task_list": [api.task_out(t) for t in tasks]}
            data = json.dumps(body, ensure_ascii=False, indent=2).encode()
        else:
            rows = [api.task_out(t) | {"side": names.get(t.business_id, "")} for t in tasks]
            target = open(output, "w", newline="") if output else sys.stdout  # noqa: SIM115
            writer = spreadsheets.DictWriter(
                target,
                ["id", "title", "side", "business_id", "assignee_user_id", "due_on", "status"]
                + ["rehearsal"],
            )
            writer.writeheader()
            writer.writerows(rows)
            if output:
                target.close()
                console.print(f"Wrote {len(rows)} tasks to {output}")
            return
    if output:
        output.write_bytes(data)
        console.print(f"Wrote {output}")
    else:
        sys.stdout.buffer.write(data)
