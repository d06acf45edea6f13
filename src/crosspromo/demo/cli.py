"""`crosspromo demo generate|load|setup`: the demo city on first start."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from sqlalchemy import select

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import User
from crosspromo.businesses import service as businesses
from crosspromo.cli_support import session_scope
from crosspromo.imports.cli import import_file
from crosspromo.matching import learned
from crosspromo.roles import Role
from crosspromo.settings import get_settings

demo_app = typer.Typer(no_args_is_help=True, help="The demo city.")
console = Console(stderr=True)
DEMO_EMAIL = "owner@demo.example"
DEMO_PASSWORD = "demo-city-2026"
FILES = (
    ("businesses", "businesses.csv"),
    ("customers", "customers.csv"),
    ("transactions", "transactions.csv"),
)


def _generate(out: Path, seed: int, size: str) -> dict[str, object]:
    from crosspromo.demo.generate import generate

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"generating {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return generate(out, seed=seed, size=size, progress=progress)


@demo_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option(help="Directory for the CSV files and ground_truth.json.")],
    seed: Annotated[int, typer.Option(help="Same seed, same city.")] = 42,
    size: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
) -> None:
    """Write a deterministic demo city: three import files and its ground truth."""
    summary = _generate(out, seed, size)
    console.print(f"[green]Wrote[/green] {out}: {json.dumps(summary, default=str)}")


@demo_app.command("load")
def load_command(directory: Annotated[Path, typer.Argument(help="A generated city.")]) -> None:
    """Import a generated city through the public import path."""
    _load(directory)


def _load(directory: Path) -> None:
    for kind, name in FILES:
        import_file(kind, directory / name, None, False, False)
    slugs = [row["id"] for row in _rows(directory / "businesses.csv")]
    with session_scope() as db, console.status("Learning relations from shared customers…"):
        businesses.allow_overlap_discovery(db, slugs=slugs)
        pairs = learned.learn(db)
    console.print(f"Learned {pairs:,} business pairs from shared customers.")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _demo_owner(directory: Path) -> list[str]:
    """The demo owner gets the businesses of the planted promotion and a few more."""
    truth = json.loads((directory / "ground_truth.json").read_text())
    promotion = truth.get("promotion", {})
    wanted = [promotion.get(k) for k in ("bakery", "cafe", "issuer", "honouring")]
    partners = truth.get("complementary_partners", {})
    wanted += sorted(partners, key=lambda b: -len(partners[b]))[:2]
    slugs = list(dict.fromkeys(w for w in wanted if isinstance(w, str)))
    with session_scope() as db:
        from sqlalchemy import select

        user = db.scalar(select(User).where(User.email == DEMO_EMAIL))
        if user is None:
            user = accounts.create_user(
                db, email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo owner"
            )
        else:
            user.password_hash = accounts.hash_password(DEMO_PASSWORD)
        for slug in slugs:
            found = businesses.get_by_slug(db, slug)
            if found is not None:
                accounts.grant(db, user=user, workspace_id=found.workspace_id, role=Role.owner)
    return slugs


def _live_campaign(directory: Path) -> None:
    """A running joint promotion with printable coupons between the planted bakery and cafe."""
    from crosspromo.demo.campaign import live_campaign, past_promotion

    promotion = json.loads((directory / "ground_truth.json").read_text()).get("promotion", {})
    with session_scope() as db:
        bakery = businesses.get_by_slug(db, str(promotion.get("bakery", "")))
        cafe = businesses.get_by_slug(db, str(promotion.get("cafe", "")))
        if bakery is None or cafe is None:
            return
        campaign = live_campaign(db, bakery, cafe)
        console.print(
            f"Running campaign: [bold]{campaign.title}[/bold] ({bakery.name} + {cafe.name})"
        )
        if promotion.get("treatment"):
            past = past_promotion(db, bakery, cafe, promotion)
            console.print(
                f"Measured campaign: [bold]{past.title}[/bold] (crosspromo measure {past.id})"
            )


def _coalition(slugs: list[str]) -> None:
    """Three of the demo owner's businesses run a points coalition with a few weeks of history."""
    from crosspromo.loyalty.demo import demo_coalition

    with session_scope() as db:
        members = [b for b in (businesses.get_by_slug(db, slug) for slug in slugs) if b is not None]
        coalition = demo_coalition(db, members)
        if coalition is not None:
            names = ", ".join(b.name for b in members[:3])
            console.print(f"Loyalty coalition: [bold]{coalition.name}[/bold] ({names})")


def _lead_exchange() -> None:
    """The estate agent's request form, routed to the nearest plasterer's specialists."""
    from crosspromo.leads.demo import demo_exchange, pair

    with session_scope() as db:
        found = pair(db)
        if found is None:
            return
        user = db.scalar(select(User).where(User.email == DEMO_EMAIL))
        for business in found:
            if user is not None:
                accounts.grant(db, user=user, workspace_id=business.workspace_id, role=Role.owner)
        made = demo_exchange(db, *found)
        names = f"{made.agent.name} -> {made.plasterer.name}"
        console.print(f"Lead form: [bold]/l/{made.form.id}[/bold] ({names})")


@demo_app.command("setup")
def setup_command(
    seed: Annotated[int, typer.Option(help="Same seed, same city.")] = 42,
    size: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
    url: Annotated[
        str, typer.Option(help="Where the app will be served (printed in the banner).")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Generate (once), load and give a demo owner a few businesses; prints how to sign in."""
    directory = get_settings().var_dir / f"demo-{size}-{seed}"
    if not (directory / "ground_truth.json").exists():
        _generate(directory, seed, size)
    _load(directory)
    slugs = _demo_owner(directory)
    _live_campaign(directory)
    _coalition(slugs)
    _lead_exchange()
    console.rule("[bold green]The demo city is ready")
    console.print(f"Open [bold]{url}[/bold] and sign in with")
    console.print(f"  e-mail:   [bold]{DEMO_EMAIL}[/bold]")
    console.print(f"  password: [bold]{DEMO_PASSWORD}[/bold]")
    console.print(f"  businesses: {', '.join(slugs)}")
