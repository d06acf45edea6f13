"""`crosspromo partners suggest|why-not|learn`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.cli_support import business_by_slug, session_scope
from crosspromo.matching import scheduled, service

partners_app = typer.Typer(no_args_is_help=True, help="Find partners.")
console = Console()


@partners_app.command("suggest")
def suggest(
    business: Annotated[str, typer.Argument(help="Business id (slug).")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    radius_km: Annotated[
        float | None, typer.Option(help="Search radius for offline partners.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    locale: Annotated[str, typer.Option(help="en or ru")] = "en",
) -> None:
    """Suggest partners with scores, criteria, reasons and warnings."""
    with session_scope() as db:
        me = business_by_slug(db, business)
        found = [
            s.to_dict(locale)
            for s in service.suggest(db, business=me, limit=limit, radius_km=radius_km)
        ]
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Partners for {business}")
    for column in ("#", "partner", "category", "score", "direction", "overlap", "reasons"):
        table.add_column(column)
    for rank, s in enumerate(found, start=1):
        table.add_row(
            str(rank),
            s["business"]["slug"],
            s["business"]["category"],
            f"{s['score']:.2f}",
            s["direction"],
            str(s["overlap"] or "—"),
            "\n".join(s["reasons"][:3]),
        )
    console.print(table)


@partners_app.command("why-not")
def why_not(
    business: Annotated[str, typer.Argument(help="Your business id (slug).")],
    other: Annotated[str, typer.Argument(help="The business you wonder about.")],
    radius_km: Annotated[float | None, typer.Option()] = None,
    locale: Annotated[str, typer.Option(help="en or ru")] = "en",
) -> None:
    """Why a business is not suggested: the blocking reasons, or its rank."""
    with session_scope() as db:
        reasons, _ = service.why_not(
            db,
            business=business_by_slug(db, business),
            other=business_by_slug(db, other),
            radius_km=radius_km,
        )
        for reason in reasons:
            console.print(f"- {reason.render(locale)}")


@partners_app.command("learn")
def learn() -> None:
    """Recompute learned relations (lift, direction, substitution) from shared customers."""
    with session_scope() as db, console.status("Learning from shared customers…") as status:
        pairs = scheduled.learn_all(db, progress=lambda step: status.update(f"{step}…"))
    console.print(f"[green]Learned[/green] {pairs:,} business pairs.")


@partners_app.command("relations")
def show_relations(
    category: Annotated[str, typer.Argument(help="A category code, e.g. shop=bakery.")],
    locale: Annotated[str, typer.Option(help="en or ru")] = "en",
) -> None:
    """Curated relations of a category next to the learned ones, with sample sizes."""
    from crosspromo.matching.api import relations_view

    with session_scope() as db:
        view = relations_view(db, category, locale)
    curated = Table(title=f"Curated relations of {category} (v{view['relations_version']})")
    for column in ("category", "kind", "direction", "strength", "note"):
        curated.add_column(column)
    for row in view["curated"]:
        curated.add_row(
            row["category"], row["kind"], row["direction"], f"{row['strength']:.2f}", row["note"]
        )
    console.print(curated)
    learned_table = Table(title="Learned from shared customers")
    for column in ("category", "pairs", "shared", "lift", "they come first", "decided by"):
        learned_table.add_column(column)
    for row in sorted(view["learned"], key=lambda r: (r["small_sample"], -r["lift"]))[:30]:
        low, high = row["other_first_interval"]
        learned_table.add_row(
            row["category"],
            str(row["business_pairs"]),
            str(row["shared_customers"]),
            f"{row['lift']:.1f}",
            "too few to say" if row["small_sample"] else f"about {low:.0%}-{high:.0%}",
            row["source"],
        )
    console.print(learned_table)
