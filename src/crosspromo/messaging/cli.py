"""`crosspromo messages send|list|stats`: queue a message, list them, count the results."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

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
    audience: Annotated[
        str, typer.Option(help="a saved audience's id (default: every consenting contact)")
    ] = "",
) -> None:
    """Write a message from a JSON file and queue it to every consenting contact (of the
    audience, if given)."""
    audience_id = None
    if audience:
        try:
            audience_id = uuid.UUID(audience)
        except ValueError:
            fail(f"{audience!r} is not an audience id.")
    try:
        parts = json.loads(content.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"Cannot read {content}: {exc}")
    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            made = service.create(
                db,
                business_id=mine.id,
                sender_name=mine.name,
                channel=channel,
                content=parts,
                audience_id=audience_id,
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


audiences_app = typer.Typer(no_args_is_help=True, help="Saved audiences (segments) of messages.")
messages_app.add_typer(audiences_app, name="audiences")


def _rules(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError as exc:
        fail(f"--rules is not JSON: {exc}")
    if not isinstance(found, dict):
        fail('--rules is a JSON object, e.g. {"visited_within_days": 30}')
    return found


def _sizes_row(table: Table, name: str, sizes: dict[str, int], *first: str) -> None:
    table.add_row(*first, name, *(str(sizes[k]) for k in ("contacts", "email", "sms", "telegram")))


@audiences_app.command("list")
def audiences_list(
    business: Annotated[str, typer.Option(help="the business id (slug)")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """The business's audiences with their size now (contacts, and consenting per channel)."""
    from crosspromo.messaging import audiences

    with session_scope() as db:
        mine = business_by_slug(db, business)
        items, _ = audiences.page(db, business_id=mine.id, cursor=None, limit=limit)
        table = Table("id", "name", "contacts", "email", "sms", "telegram")
        for item in items:
            sizes = audiences.sizes(db, business_id=mine.id, rules=item.rules)
            _sizes_row(table, item.name, sizes, str(item.id))
    console.print(table)


@audiences_app.command("count")
def audiences_count(
    business: Annotated[str, typer.Option(help="the business id (slug)")],
    rules: Annotated[str, typer.Option(help='JSON rules, e.g. {"lapsed_days": 60}')] = "{}",
) -> None:
    """How many contacts the rules match now, and how many each channel reaches."""
    from crosspromo.messaging import audiences

    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            sizes = audiences.sizes(db, business_id=mine.id, rules=_rules(rules))
    except DomainError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")
    table = Table("name", "contacts", "email", "sms", "telegram")
    _sizes_row(table, "(rules)", sizes)
    console.print(table)


@audiences_app.command("create")
def audiences_create(
    business: Annotated[str, typer.Option(help="the business id (slug)")],
    name: Annotated[str, typer.Option(help="the audience's name")],
    rules: Annotated[str, typer.Option(help='JSON rules, e.g. {"visited_within_days": 30}')],
) -> None:
    """Save an audience; `messages send --audience ID` then writes to it."""
    from crosspromo.messaging import audiences

    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            made = audiences.create(db, business_id=mine.id, name=name, rules=_rules(rules))
            made_id = made.id
    except DomainError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")
    console.print(f"Audience {made_id} saved.")


@audiences_app.command("delete")
def audiences_delete(
    audience_id: Annotated[str, typer.Argument(help="the audience's id")],
    business: Annotated[str, typer.Option(help="the business id (slug)")],
) -> None:
    """Forget an audience (messages already queued keep their recipients)."""
    from crosspromo.messaging import audiences

    try:
        wanted = uuid.UUID(audience_id)
    except ValueError:
        fail(f"{audience_id!r} is not an audience id.")
    try:
        with session_scope() as db:
            mine = business_by_slug(db, business)
            audiences.delete(db, business_id=mine.id, audience_id=wanted)
    except DomainError as exc:
        fail(exc.detail)
    console.print("Audience deleted.")
