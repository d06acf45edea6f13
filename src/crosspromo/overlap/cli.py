"""`crosspromo overlap ...`: shared audiences, exactly, by sketch, or privately between installs."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crosspromo.cli_support import business_by_slug, fail, session_scope
from crosspromo.customers import service as customers
from crosspromo.errors import DomainError
from crosspromo.overlap import psi, service, sketches

overlap_app = typer.Typer(no_args_is_help=True, help="Shared audiences, privately.")
console = Console()


@overlap_app.command("show")
def show(a: str, b: str) -> None:
    """What A's owner may see: the rounded count, if both allow it and it is not too small."""
    with session_scope() as db:
        found = service.visible_overlap(db, a=business_by_slug(db, a), b=business_by_slug(db, b))
    if found.suppressed:
        console.print(f"Not shown: {found.reason}.")
    else:
        console.print(f"About {found.shown} shared customers ({found.reason}).")


@overlap_app.command("estimate")
def estimate(a: str, b: str, lg_k: Annotated[int, typer.Option(min=4, max=21)] = 12) -> None:
    """A Theta-sketch estimate with its 2-sigma bounds (both must allow overlap discovery)."""
    with session_scope() as db:
        first, second = business_by_slug(db, a), business_by_slug(db, b)
        if not (first.allow_overlap_discovery and second.allow_overlap_discovery):
            fail("Both businesses must allow overlap discovery.")
        result = sketches.estimate(
            sketches.build(db, business_id=first.id, lg_k=lg_k),
            sketches.build(db, business_id=second.id, lg_k=lg_k),
        )
    console.print(
        f"About {result.estimate:,.0f} shared "
        f"(between {result.lower:,.0f} and {result.upper:,.0f})."
    )


@overlap_app.command("psi-start")
def psi_start(
    business: str,
    state: Annotated[Path, typer.Option(help="Where to keep the secret client state.")],
    request: Annotated[Path, typer.Option(help="The request to send to the other side.")],
) -> None:
    """Client side, step 1: a PSI request over your customers' identifiers."""
    with session_scope() as db:
        items = customers.identifiers(db, business_id=business_by_slug(db, business).id)
    client, message = psi.start(items)
    state.write_bytes(client.to_bytes())
    state.chmod(0o600)
    request.write_bytes(message)
    console.print(
        f"Request for {len(items):,} identifiers written to {request}; keep {state} secret."
    )


@overlap_app.command("psi-respond")
def psi_respond(
    business: str,
    request: Annotated[Path, typer.Option(help="The other side's request.")],
    out: Annotated[Path, typer.Option(help="The answer to send back.")],
) -> None:
    """Server side: answer a PSI request over your customers' identifiers."""
    with session_scope() as db:
        items = customers.identifiers(db, business_id=business_by_slug(db, business).id)
    try:
        out.write_bytes(psi.respond(items, request.read_bytes()))
    except DomainError as exc:
        fail(exc.detail)
    console.print(f"Answer written to {out}.")


@overlap_app.command("psi-finish")
def psi_finish(
    state: Annotated[Path, typer.Option()], response: Annotated[Path, typer.Option()]
) -> None:
    """Client side, step 2: the size of the intersection, nothing more."""
    try:
        count = psi.finish(psi.ClientState.from_bytes(state.read_bytes()), response.read_bytes())
    except DomainError as exc:
        fail(exc.detail)
    console.print(f"Shared customers: {count:,}")


@overlap_app.command("psi-remote")
def psi_remote(
    business: str,
    url: Annotated[str, typer.Option(help="The other install, e.g. https://crosspromo.example")],
    other_business_id: Annotated[str, typer.Option(help="The other business's UUID there.")],
    key: Annotated[
        str,
        typer.Option(help="An API key the other business gave you.", envvar="CROSSPROMO_PSI_KEY"),
    ],
) -> None:
    """Both steps against another crosspromo install over HTTP."""
    with session_scope() as db:
        items = customers.identifiers(db, business_id=business_by_slug(db, business).id)
    client, message = psi.start(items)
    target = f"{url.rstrip('/')}/api/v1/overlap/psi?business_id={other_business_id}"
    call = urllib.request.Request(
        target,
        data=message,
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"},
    )
    try:
        with urllib.request.urlopen(call, timeout=600) as answer:  # noqa: S310 - an owner's URL
            payload = answer.read()
    except urllib.error.HTTPError as exc:
        reason = exc.read()[:300].decode(errors="replace")
        fail(f"The other install refused: HTTP {exc.code} {reason}")
    except urllib.error.URLError as exc:
        fail(f"Cannot reach {url}: {exc.reason}")
    console.print(f"Shared customers: {psi.finish(client, payload):,}")
