"""`crosspromo messages send|list|stats`: queue a message, list them, count the results."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosspromo.cli_support import business_by_slug, fail, session_scope
from crosspromo.errors import DomainError
from crosspromo.messaging import flows, service
from crosspromo.messaging.models import Channel
from crosspromo.settings import get_settings

messages_app = typer.Typer(no_args_is_help=True, help="Messages to consenting contacts.")
console = Console()


@messages_app.command("send")
def send(
    business: Annotated[str, typer.Option(help="the business id (slug) sending")],
    content: Annotated[
        Path, typer.Option(help='JSON: {"en": {"subject", "text", "html"}, "ru": {...}}')
    ],
    channel: Annotated[Channel, typer.Option(help="email, sms or telegram")] = Channel.email,
) -> None:
    """Write a message from a JSON file and queue it to every consenting contact."""
    try:
        parts = json.loads(content.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"Cannot read {content}: {exc}")
    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            made = service.create(
                db, business_id=mine.id, sender_name=mine.name, channel=channel, content=parts
            )
            count = flows.send(db, get_settings(), business_id=mine.id, broadcast_id=made.id)
            made_id = made.id
    except DomainError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")
    console.print(f"Message {made_id} queued to {count} contacts; `crosspromo worker` sends it.")


@messages_app.command("list")
def list_messages(
    business: Annotated[str, typer.Option(help="the business id (slug)")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
) -> None:
    """The business's latest messages."""
    with session_scope() as db:
        mine = business_by_slug(db, business)
        items, _ = service.page(db, business_id=mine.id, cursor=None, limit=limit)
        table = Table("id", "channel", "status", "recipients", "created")
        for item in items:
            table.add_row(
                str(item.id),
                item.channel.value,
                item.status.value,
                str(item.recipients),
                item.created_at.strftime("%Y-%m-%d %H:%M"),
            )
    console.print(table)


@messages_app.command("stats")
def stats(
    message_id: Annotated[str, typer.Argument(help="the message's id")],
    business: Annotated[str, typer.Option(help="the business id (slug)")],
) -> None:
    """Recipients per status: queued, sent, skipped (consent, suppression, cap), failed."""
    try:
        wanted = uuid.UUID(message_id)
    except ValueError:
        fail(f"{message_id!r} is not a message id.")
    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            counts = service.stats(db, service.get(db, business_id=mine.id, broadcast_id=wanted))
    except DomainError as exc:
        fail(exc.detail)
    table = Table("status", "recipients")
    for status, n in counts.items():
        table.add_row(status, str(n))
    console.print(table)


@messages_app.command("callbacks")
def callbacks_urls() -> None:
    """The addresses to give the SMS gateway and the e-mail provider for delivery reports."""
    from crosspromo.messaging import callbacks

    settings = get_settings()
    base = settings.public_url.rstrip("/")
    for kind in callbacks.KINDS:
        secret = callbacks.token(kind, settings.resolved_secret_key())
        console.print(f"{kind}: {base}/hooks/messages/{kind}/{secret}", soft_wrap=True)


@messages_app.command("poster")
def poster(
    business: Annotated[str, typer.Option(help="the business id (slug) that issues the link")],
    link: Annotated[str, typer.Option(help="the referral link's code")],
    out: Annotated[Path, typer.Option(help="where to write the PDF")],
    headline: Annotated[str, typer.Option(help="the big line (default: the offer)")] = "",
    locale: Annotated[str, typer.Option(help="en or ru")] = "en",
) -> None:
    """A printable A4 counter poster with the QR code of a referral link."""
    from crosspromo.messaging import formats

    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            pdf = formats.poster(
                db,
                business_id=mine.id,
                business_name=mine.name,
                link=link,
                public_url=get_settings().public_url,
                headline=headline,
                locale=locale,
            )
    except DomainError as exc:
        fail(str(exc))
    out.write_bytes(pdf)
    console.print(f"Poster written to {out}", soft_wrap=True)
