"""Message templates per language, checked before sending; e-mail built with both parts.

Templates are Jinja in a sandbox with strict undefined values, and the fields they may use
are checked when the message is written, so a typo is refused at the editor, never found by
the worker half-way through a broadcast.
"""

from __future__ import annotations

import email.policy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

import css_inline
import dkim
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from crosspromo.errors import Invalid, TooLarge
from crosspromo.messaging.models import Channel

FIELDS = {"name", "business", "unsubscribe_url", "preferences_url", "link"}
# A reminder before expiry also knows the day it expires and the points left (lots only).
REMINDER_FIELDS = frozenset({"expires_on", "points"})
LOCALES = ("en", "ru")
# Characters per part: an SMS of ten segments, Telegram's own limit, an e-mail without
# embedded images (they belong on a server, linked).
LIMITS = {
    (Channel.sms, "text"): 1_600,
    (Channel.telegram, "text"): 4_096,
    (Channel.email, "text"): 100_000,
    (Channel.email, "html"): 500_000,
    (Channel.email, "subject"): 200,
}
PARTS = {
    Channel.email: ("subject", "text", "html"),
    Channel.sms: ("text",),
    Channel.telegram: ("text",),
}

ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
HTML_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
# The sandbox stops attribute tricks, not cost: `'a' * 10**9`, loops, lipsum(10**4) or chained
# `replace("", ...)` would build gigabytes in a preview request or in the worker. A message
# needs fields, conditions and a few text filters; anything else is refused when written.
PLAIN_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Test,
    nodes.Filter,
    nodes.Call,
    nodes.Concat,
)
PLAIN_FILTERS = {"upper", "lower", "title", "capitalize", "trim", "default", "d", "e", "escape"}
INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)
# CRLF line ends as SMTP wants them (smtplib sends bytes untouched); headers fold at the
# RFC 5322 limit so a long List-Unsubscribe URL stays one readable URL, not encoded words.
SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)


def check(
    channel: Channel, content: dict[str, Any], extra: frozenset[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """The content with only known languages and parts, every template valid and in bounds
    (`extra`: fields this kind of message has besides the usual)."""
    if not isinstance(content, dict) or not content:
        raise Invalid("Write the message in at least one language.", field="content")
    clean: dict[str, dict[str, str]] = {}
    for locale, parts in content.items():
        if locale not in LOCALES:
            raise Invalid("Use the languages en and ru.", field=f"content.{locale}")
        if not isinstance(parts, dict):
            raise Invalid("Each language holds the message's parts.", field=f"content.{locale}")
        unknown = {k for k in set(parts) - set(PARTS[channel]) if parts[k]}
        if unknown:
            raise Invalid(
                f"A {channel.value} message has no part {sorted(unknown)[0]!r}.",
                field=f"content.{locale}",
            )
        clean[locale] = {}
        for part in PARTS[channel]:
            value = parts.get(part, "")
            where = f"content.{locale}.{part}"
            if not isinstance(value, str):
                raise Invalid("Write text here.", field=where)
            if len(value) > LIMITS[(channel, part)]:
                raise TooLarge(
                    f"At most {LIMITS[(channel, part)]:,} characters; link large images "
                    "instead of embedding them.",
                    field=where,
                )
            if not value.strip() and part != "html":
                raise Invalid("This part is empty.", field=where)
            try:
                tree = ENV.parse(value)
            except TemplateSyntaxError as exc:
                detail = f"Template error on line {exc.lineno}: {exc.message}"
                raise Invalid(detail, field=where) from exc
            _refuse_costly(tree, where)
            names = meta.find_undeclared_variables(tree)
            allowed = FIELDS | extra
            missing = sorted(names - allowed)
            if missing:
                raise Invalid(
                    f"Unknown field {missing[0]!r}; use {', '.join(sorted(allowed))}.",
                    field=where,
                )
            _try(part == "html", value, where, extra)
            clean[locale][part] = value
    return clean


def links(content: dict[str, dict[str, str]]) -> list[str]:
    """The targets of `{{ link("https://...") }}` in every part, each once, in order.

    Only written-out http(s) addresses: each recipient's copy points at a tracking URL of
    this install that redirects to a target stored here, never to one read from the URL.
    """
    found: list[str] = []
    for locale, parts in content.items():
        for part, source in parts.items():
            where = f"content.{locale}.{part}"
            for call in ENV.parse(source).find_all(nodes.Call):
                if not (isinstance(call.node, nodes.Name) and call.node.name == "link"):
                    continue
                target = call.args[0] if len(call.args) == 1 else None
                if not isinstance(target, nodes.Const) or not isinstance(target.value, str):
                    raise Invalid('Write links as {{ link("https://...") }}.', field=where)
                url = target.value.strip()
                if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                    raise Invalid(f"Not a web address: {url!r}.", field=where)
                if len(url) > 2000:
                    raise Invalid("A link of at most 2,000 characters.", field=where)
                if url not in found:
                    found.append(url)
    return found


def tracker(base: str, token: str, targets: list[str]) -> Callable[[str], str]:
    """`link(url)` for one recipient: their own tracking URL for each target."""

    def link(url: str) -> str:
        return f"{base.rstrip('/')}/m/{token}/{targets.index(url.strip())}"

    return link


def _refuse_costly(tree: nodes.Template, where: str) -> None:
    """Only fields, conditions, `{{ f(...) }}` of a field and the text filters above."""
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, PLAIN_NODES):
            kind = type(node).__name__
            raise Invalid(f"Templates take fields and conditions only, not {kind}.", field=where)
        if isinstance(node, nodes.Filter) and node.name not in PLAIN_FILTERS:
            raise Invalid(f"Unknown filter {node.name!r}.", field=where)
        if isinstance(node, nodes.Call) and not isinstance(node.node, nodes.Name):
            raise Invalid("Call only the template's own functions.", field=where)
        if isinstance(node, nodes.Name) and node.name in ENV.globals:
            raise Invalid(f"Unknown field {node.name!r}.", field=where)


def _try(html: bool, source: str, where: str, extra: frozenset[str] = frozenset()) -> None:
    """Filled in once with sample values, so `{{ name() }}` is refused here, not in the worker."""
    sample: dict[str, Any] = {k: "https://example.org/" for k in FIELDS | extra} | {
        "name": "Anna",
        "business": "Cafe",
        "link": lambda url: url,
        "expires_on": "7 December 2026",
        "points": 120,
    }
    try:
        _compiled(html, source).render(sample)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise Invalid(f"This template fails when filled in: {exc}", field=where) from exc


def pick(content: dict[str, dict[str, str]], locale: str) -> dict[str, str]:
    """The contact's language, else English, else whatever the message was written in."""
    for choice in (locale, "en", *content):
        if choice in content:
            return content[choice]
    raise Invalid("The message has no text.", field="content")


def fill(parts: dict[str, str], values: dict[str, Any]) -> dict[str, str]:
    """The parts rendered for one recipient; HTML escapes the values it inserts."""
    done = {}
    for part, source in parts.items():
        if not source:
            done[part] = ""
            continue
        done[part] = _compiled(part == "html", source).render(**values)
    if done.get("html"):
        done["html"] = INLINER.inline(done["html"])
    return done


@functools.lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> Template:
    """A template compiled once per worker process, not once per recipient."""
    return (HTML_ENV if html else ENV).from_string(source)


@dataclass
class Email:
    sender: str
    to: str
    subject: str
    text: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def email_message(mail: Email, *, message_id: str, domain: str = "crosspromo") -> EmailMessage:
    """A multipart/alternative e-mail (plain text first, then HTML) with the given headers."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    # Stable across retries, so a receiver can drop the repeat of an at-least-once send.
    message["Message-ID"] = f"<{message_id}@{domain}>"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def sign(raw: bytes, *, selector: str, domain: str, private_key: bytes) -> bytes:
    """The message with a DKIM-Signature (relaxed/relaxed) over its main headers."""
    headers = [b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe"]
    headers += [b"list-unsubscribe-post", b"mime-version", b"content-type"]
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=headers,
    )
    return bytes(signature) + raw


def sender_address(name: str, mail_from: str) -> str:
    """The business's name shown on the install's own address (SPF and DKIM stay ours)."""
    return formataddr((name, parseaddr(mail_from)[1] or "noreply@localhost"))


def bare_address(value: str) -> str:
    return parseaddr(value)[1]
