"""The batch send path's pieces against the library they stand in for: e-mails written from
library-encoded parts read back as the `email` package's own, CSS inlined on the template
equals CSS inlined on each copy, caps charged per batch decide as one by one."""

from __future__ import annotations

import email
import random
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from crosspromo.messaging import caps, render

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _library(mail: render.Email, message_id: str) -> bytes:
    """The message as the `email` package builds it (the reference)."""
    message = EmailMessage(policy=render.SMTP_POLICY)
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{message_id}@crosspromo>"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message.as_bytes()


def test_email_bytes_reads_back_as_the_library_message() -> None:
    long_subject = "Новости кафе: " + "очень длинная тема письма " * 6
    for subject, html in [
        ("News from Cafe Lumiere", "<p style='color: red'>Hello Anna</p>"),
        (long_subject, "<p>Здравствуйте, Анна!</p>\n<p>Вторая строка</p>"),
        ("Plain only", ""),
    ]:
        mail = render.Email(
            sender=render.sender_address("Кафе «Люмьер»", "noreply@promo.example"),
            to="anna.k+news@example.com",
            subject=subject,
            text="Hello Anna!\nLine two\n\nЗдравствуйте",
            html=html,
            headers={
                "List-Unsubscribe": "<https://promo.example/u/" + "t" * 43 + "/unsubscribe>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        ours = email.message_from_bytes(render.email_bytes(mail, message_id="m-1"), policy=default)
        theirs = email.message_from_bytes(_library(mail, "m-1"), policy=default)
        for name in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe", "Content-Type"):
            assert str(ours[name]).split(";")[0] == str(theirs[name]).split(";")[0], name
        for kind in ("plain", "html"):
            mine, reference = ours.get_body((kind,)), theirs.get_body((kind,))
            assert (mine is None) == (reference is None)
            if mine is not None and reference is not None:
                assert mine.get_content() == reference.get_content()
        assert all(not part.defects for part in ours.walk())
        raw = render.email_bytes(mail, message_id="m-1")
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=120)


@settings(max_examples=150, deadline=None)
@given(value=PRINTABLE, name=st.sampled_from(["Subject", "List-Unsubscribe", "X-Campaign"]))
def test_plain_headers_are_written_as_the_library_folds_them(name: str, value: str) -> None:
    expected = render.SMTP_POLICY.fold_binary(*render.SMTP_POLICY.header_store_parse(name, value))
    assert render.header(name, value) == expected


@settings(max_examples=100, deadline=None)
@given(
    local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){1,2}", fullmatch=True),
)
def test_plain_addresses_are_written_as_the_library_folds_them(local: str, domain: str) -> None:
    value = f"{local}@{domain}"
    expected = render.SMTP_POLICY.fold_binary(*render.SMTP_POLICY.header_store_parse("To", value))
    assert render.header("To", value) == expected


NAMES = ["Anna", "O'Brien & Sons", "<b>Борис</b>", "", "Zoë"]


def test_css_is_inlined_once_on_the_template_when_that_is_the_same() -> None:
    source = (
        "<style>p{color:#a33} .offer{font-weight:bold} a{color:blue}</style>"
        "<p>Hello {{ name }},</p><p class='offer'>{{ business }} has news.</p>"
        '<a href="{{ link("https://cafe.example/menu") }}">Menu</a>'
        "<a href='{{ preferences_url }}'>Preferences</a>"
    )
    template, inline_each = render._html_template(source)
    assert not inline_each
    for name in NAMES:
        values = render.SAMPLE | {"name": name, "business": f"Cafe {name}"}
        once = template.render(values)
        each = render.INLINER.inline(render._compiled(True, source).render(values))
        # The same document; only how an apostrophe in a value is escaped may differ.
        assert once.replace("&#39;", "'") == each
        assert "<style>" not in once and 'style="color: #a33;"' in once


def test_blocks_keep_inlining_each_copy() -> None:
    source = "<style>p{color:red}</style>{% if name %}<p>{{ name }}</p>{% endif %}"
    _, inline_each = render._html_template(source)
    assert inline_each
    filled = render.fill({"html": source}, render.SAMPLE)
    assert 'style="color: red;"' in filled["html"]


def test_caps_charged_per_batch_decide_as_one_by_one(db: Session) -> None:
    rng = random.Random(7)
    people = [f"{i:064x}" for i in range(12)]
    requests = []
    for _ in range(60):
        person = rng.choice(people)
        limits = {f"p:{person}": 3}
        if rng.random() < 0.5:
            limits[f"b:cafe:{person}"] = 2
        requests.append(limits)
    one_by_one = [
        caps.charge(db, {f"one:{k}": cap for k, cap in limits.items()}, now=NOW)
        for limits in requests
    ]
    batched = caps.charge_many(db, requests[:25], now=NOW)
    batched += caps.charge_many(db, requests[25:], now=NOW)
    db.commit()
    assert batched == one_by_one
    for person in people:
        for key in (f"p:{person}", f"b:cafe:{person}"):
            assert caps.used(db, key, now=NOW) == caps.used(db, f"one:{key}", now=NOW)
    assert caps.charge_many(db, [], now=NOW) == []
