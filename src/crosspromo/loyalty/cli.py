"""`crosspromo loyalty list | clearing | check | positions | expire | cards print`."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.cli_support import business_by_slug, fail, session_scope
from crosspromo.errors import DomainError
from crosspromo.loyalty import clearing, printing, service
from crosspromo.loyalty.models import Coalition

loyalty_app = typer.Typer(no_args_is_help=True, help="Coalition loyalty: points and clearing.")
console = Console()
cards_app = typer.Typer(no_args_is_help=True, help="Printable plastic cards (CR80 on A4).")
loyalty_app.add_typer(cards_app, name="cards")


def _day(text: str, name: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        fail(f"--{name} takes a date as YYYY-MM-DD, not {text!r}.")


def _coalition(db: Session, text: str) -> Coalition:
    """A coalition by its id or its exact name."""
    try:
        found = db.get(Coalition, uuid.UUID(text))
    except ValueError:
        named = list(db.scalars(select(Coalition).where(Coalition.name == text).limit(2)))
        if len(named) > 1:
            fail(f"Several coalitions are named {text!r}; give the id.")
        found = named[0] if named else None
    if found is None:
        fail(f"No coalition {text!r}; see `crosspromo loyalty list`.")
    return found


def _active(db: Session, coalition: Coalition) -> list[Business]:
    """The active members' businesses, by slug."""
    members = service.members(db, coalition.id)
    ids = [m.business_id for m in members if m.status.value == "active"]
    return list(db.scalars(select(Business).where(Business.id.in_(ids)).order_by(Business.slug)))


@loyalty_app.command("list")
def list_coalitions(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Coalitions with their id, name and member business slugs."""
    with session_scope() as db:
        rows: list[dict[str, object]] = [
            {
                "id": str(c.id),
                "name": c.name,
                "members": [b.slug for b in _active(db, c)],
                "business_ids": [str(b.id) for b in _active(db, c)],
            }
            for c in service.all_coalitions(db)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "name", "members")
    for row in rows:
        members = row["members"]
        assert isinstance(members, list)
        table.add_row(str(row["id"]), str(row["name"]), ", ".join(members))
    console.print(table)


@loyalty_app.command("clearing")
def clearing_command(
    coalition: Annotated[str, typer.Argument(help="The coalition's id or name.")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per member: issued_minor (owes), accepted_minor (owed), net_minor; the netted transfers.

    The days are the coalition's local days (its `timezone`), --to included.
    """
    first, last = _day(start, "from"), _day(end, "to")
    if last < first:
        fail("--to is before --from.")
    with session_scope() as db:
        found = _coalition(db, coalition)
        result = clearing.statement(db, found, *clearing.days(found, first, last)).as_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    table = Table("member", "issued", "accepted", "net", title=f"{result['currency']} minor units")
    for line in result["members"]:  # type: ignore[attr-defined]
        table.add_row(
            line["slug"],
            str(line["issued_minor"]),
            str(line["accepted_minor"]),
            str(line["net_minor"]),
        )
    console.print(table)
    for transfer in result["transfers"]:  # type: ignore[attr-defined]
        console.print(f"{transfer['from']} pays {transfer['to']} {transfer['amount_minor']}")


@loyalty_app.command("check")
def check_command(
    coalition: Annotated[str, typer.Argument(help="The coalition's id or name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Verify every invariant of the coalition's ledger; exit 1 on any breach."""
    with session_scope() as db:
        report = clearing.check(db, _coalition(db, coalition))
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, "breaches": report.breaches} | report.checked))
    else:
        for breach in report.breaches:
            console.print(f"[red]breach:[/red] {breach}")
        summary = ", ".join(f"{k} {v}" for k, v in report.checked.items())
        console.print(("[green]ok[/green] " if report.ok else "[red]FAILED[/red] ") + summary)
    if not report.ok:
        raise typer.Exit(1)


@loyalty_app.command("positions")
def positions_command(
    coalition: Annotated[str, typer.Argument(help="The coalition's id or name.")],
) -> None:
    """Each member's outstanding liability, reserve coverage and expected breakage."""
    with session_scope() as db:
        rows = clearing.positions(db, _coalition(db, coalition))
    table = Table("member", "liability pts", "liability", "reserve", "coverage", "breakage pts")
    for p in rows:
        coverage = f"{p.coverage:.0%}" if p.coverage is not None else "-"
        table.add_row(
            p.slug,
            str(p.liability_points),
            str(p.liability_minor),
            str(p.reserve_minor),
            coverage,
            str(p.expected_breakage_points),
        )
    console.print(table)


@loyalty_app.command("expire")
def expire_command() -> None:
    """Write expiry transactions for lots past their expiry (the worker does this each round)."""
    total = 0
    while True:
        with session_scope() as db:
            done = service.expire(db)
        total += done
        if done == 0:
            break
    console.print(f"{total} points expired")


@cards_app.command("print")
def print_command(
    coalition: Annotated[str, typer.Argument(help="The coalition's id or name.")],
    out: Annotated[Path, typer.Option("--out", help="The PDF to write.")],
    count: Annotated[
        int, typer.Option("--count", min=0, max=service.MAX_BLANK_CARDS, help="New blank cards.")
    ] = 0,
    cards: Annotated[
        list[str] | None, typer.Option("--card", help="Print this card instead (repeat).")
    ] = None,
    business: Annotated[
        str, typer.Option("--business", help="The member handing them out (slug); the founder.")
    ] = "",
    lang: Annotated[str, typer.Option("--lang", help="en or ru: the back's language.")] = "en",
) -> None:
    """A4 sheets of 10 cards with crop marks: COUNT new blank cards, or the given ones.

    Blank cards are numbered and inert until a member's till activates one with the holder's
    phone or e-mail and consent (the till page, or POST /api/v1/loyalty/cards with `card`).
    """
    if lang not in printing.LABELS:
        fail("--lang takes en or ru.")
    if bool(count) == bool(cards):
        fail("Give either --count (new blank cards) or --card (cards to print).")
    with session_scope() as db:
        found = _coalition(db, coalition)
        try:
            if count:
                member = (
                    business_by_slug(db, business)
                    if business
                    else db.get(Business, found.founder_business_id)
                )
                assert member is not None
                made = service.blank_cards(
                    db, coalition=found, business=member, count=count, locale=lang
                )
            else:
                made = [service.find_card(db, text) for text in cards or []]
                if any(card.coalition_id != found.id for card in made):
                    fail("A card given belongs to another coalition.")
        except DomainError as exc:
            fail(exc.detail)
        pdf = printing.card_sheet(
            [printing.printed(card, lang) for card in made], printing.programme(db, found)
        )
        out.write_bytes(pdf)
    pages = -(-len(made) // printing.PER_SHEET) * 2
    console.print(f"{len(made)} cards, {pages} A4 pages (fronts and backs) in {out}")
