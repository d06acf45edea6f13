"""The all-pages audit: every HTML page, as every role, in Russian, shows no English UI
string and no raw enum word (issue 12).

The world is seeded with Russian user data (names, titles, terms), so any Latin word of
three letters or more left in the visible text of a Russian page is a UI string that was
not translated; the allow-list holds brand and proper names and units. Pages are collected
from the app's routes, so a new page is audited without touching this file (a page whose
path parameters the seeded world cannot fill fails here until it is added to IDS).
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

import crosspromo
from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.businesses.models import Business
from crosspromo.campaigns.models import Campaign
from crosspromo.cli_support import operator
from crosspromo.leads import service as leads
from crosspromo.leads.schemas import FormCreate, RequestIn, SpecialistCreate
from crosspromo.loyalty import service as loyalty
from crosspromo.web.problems import KINDS
from tests.conftest import PASSWORD, sign_in
from tests.hardening.conftest import world  # noqa: F401  (the seeded world, renamed below)
from tests.offers.conftest import agreed, running  # noqa: F401

# Brand and proper names, file formats and units people read as they are in Russian too.
ALLOWED = {
    "crosspromo",
    "qr",
    "csv",
    "pdf",
    "api",
    "xlsx",
    "json",
    "iso",
    "iana",
    "utc",
    "http",
    "https",
    "telegram",
    "excel",
    "sms",
    "url",
    "rub",
    "usd",
    "eur",
    "openstreetmap",
    "mail",  # e-mail
    "ics",  # a calendar file
    "roi",
    "htmx",
    "crm",
    "utf",
    "windows",
    "multipart",
    "html",
}
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# Not text people read: machine values shown on purpose (codes, tokens, e-mail addresses).
MACHINE = re.compile(
    r"\S+@\S+|https?://\S+|/[\w/{}.?=&%-]+|\b[0-9A-Z]{4,}(?:-[0-9A-Z]{3,})+\b"
    r"|\b[a-z_]+(?:,[a-z_]+)+\b|`[^`]+`|'Authorization: Bearer <[^>]*>'"
    r"|\b[A-Z][a-z]+(?:-[A-Z][a-z]+)+\b|\{\{.*?\}\}"
    r"|\b(?:Europe|Asia|America|Africa|Australia|Pacific|Atlantic|Indian)/[A-Za-z_/]+"
)
# A date as the database keeps it: pages show dates the Russian way (Babel), "30 нояб. 2026 г."
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
SKIPPED = {"script", "style", "template", "code", "pre", "noscript", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

RUSSIAN = {
    "bakery": "Пекарня «Колосок»",
    "cafe": "Кофейня «Зерно»",
    "outsider": "Цветы «Ромашка»",
    "campaign": "Кофе к хлебу",
    "offer": "Скидка 10% на кофе",
}


def enum_words() -> set[str]:
    """Every value of every enum in the models: none may show raw on a page."""
    words: set[str] = set()
    for info in pkgutil.walk_packages(crosspromo.__path__, "crosspromo."):
        if not info.name.endswith("models"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            own = isinstance(value, type) and value.__module__ == module.__name__
            if own and issubclass(value, enum.Enum):
                words |= {str(m.value) for m in value}
    return words


class Visible(HTMLParser):
    """Text a person sees or hears (screen readers) on a page: not scripts, code, form
    contents, nor what is aria-hidden (a honeypot field)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, hides its content)

    @property
    def hidden(self) -> bool:
        return any(hides for _tag, hides in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag not in VOID:
            self.open.append((tag, tag in SKIPPED or named.get("aria-hidden") == "true"))
        if self.hidden or named.get("aria-hidden") == "true":
            return
        for attribute in ATTRIBUTES:
            if named.get(attribute):
                self.parts.append(str(named[attribute]))
        if tag == "input" and named.get("type") in ("submit", "button") and named.get("value"):
            self.parts.append(str(named["value"]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):  # unclosed <li>, <p>: close up to the tag
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = Visible()
    parser.feed(html)
    return parser.parts


def english_in(html: str, user_data: set[str], enums: set[str]) -> list[str]:
    """The English words (and raw enum words) of a Russian page, with their context."""
    found = []
    for part in visible_text(html):
        text = part
        for data in sorted(user_data, key=len, reverse=True):
            text = text.replace(data, " ")
        text = MACHINE.sub(" ", text)
        words = [w for w in LATIN_WORD.findall(text) if w.lower() not in ALLOWED]
        raw = [w for w in re.findall(r"[a-z_]+", text) if w in enums]
        if words or raw or ISO_DATE.search(text):
            found.append(part[:120])
    return found


def _routes(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_routes(route.original_router.routes))
    return found


NOT_HTML = {"/healthz", "/favicon.ico", "/api/docs", "/categories/options"}


def page_templates(app: Any) -> list[str]:
    """Every GET route answering HTML: not the API, files or redirects-only switches."""
    out = []
    for route in _routes(app.routes):
        if "GET" not in route.methods or route.path.startswith("/api/") or route.path in NOT_HTML:
            continue
        if route.path.endswith((".pdf", ".csv")) or route.path.startswith("/locale/"):
            continue
        out.append(route.path)
    return out


def _russify(db: Session, w: dict[str, Any]) -> set[str]:
    """Russian names for the world's businesses and campaign; the English user data left
    (option texts, task titles) is returned to be stripped from the pages."""
    for key in ("bakery", "cafe", "outsider"):
        db.execute(update(Business).where(Business.id == w[key].id).values(name=RUSSIAN[key]))
    db.execute(
        update(Campaign)
        .where(Campaign.id == uuid.UUID(w["campaign_id"]))
        .values(title=RUSSIAN["campaign"])
    )
    db.commit()
    return {
        "A free croissant with every coffee",
        "croissants",
        "cafe customers",
        "a flyer at the till",
        "bakery customers",
        "10% off coffee for bakery customers",
        "Print",
        "Florist",
        "BREAD",
        "materials",
        "Bakery",
        "Cafe",
        "Outsider",
        "Our street",
        "Coffee for bread",
    }


OPTION_RU: dict[str, Any] = {
    "mechanic": "joint_promotion",
    "title": "Букет к кофе",
    "proposer": {"gives": "скидку на букеты", "gets": "гостей кофейни"},
    "partner": {"gives": "листовки на стойке", "gets": "покупателей цветов"},
}


def _proposal_states(client: TestClient, w: dict[str, Any]) -> list[str]:
    """A declined proposal and an open one countered by the partner (the world's first is
    agreed): each state's page is audited."""
    made = []
    for counter in (False, True):
        sent = client.post(
            "/api/v1/partnerships",
            params={"business_id": str(w["outsider"].id)},
            headers=w["outsider_owner"],
            json={"to_business": w["bakery"].slug, "options": [OPTION_RU]},
        )
        assert sent.status_code == 201, sent.text
        url = f"/api/v1/partnerships/{sent.json()['id']}"
        if counter:
            changed = OPTION_RU | {"title": "Два букета к кофе"}
            answer = client.post(
                f"{url}/versions",
                headers=w["bakery_owner"],
                json={"based_on": 1, "options": [changed], "note": "Давайте два"},
            )
        else:
            answer = client.post(
                f"{url}/decline", headers=w["bakery_owner"], json={"reason": "Не сейчас"}
            )
        assert answer.status_code in (200, 201), answer.text
        made.append(sent.json()["id"])
    return made


def _campaign_stages(client: TestClient, w: dict[str, Any]) -> list[str]:
    """Campaigns in preparation, agreed and closed (the world's own is running)."""
    made = []
    for stages in ((), ("agreed",), ("agreed", "running", "results", "closed")):
        created = client.post(
            "/api/v1/campaigns",
            params={"business_id": str(w["bakery"].id)},
            headers=w["bakery_manager"],
            json={
                "proposal_id": w["proposal_id"],
                "title": f"Акция {len(made) + 2}",
                "starts_on": (date.today() - timedelta(days=1)).isoformat(),
                "ends_on": (date.today() + timedelta(days=10)).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        url = f"/api/v1/campaigns/{created.json()['id']}"
        if stages:
            client.patch(
                url,
                headers=w["bakery_manager"],
                json={
                    "goal_metric": "revenue",
                    "goal_kind": "increase_percent",
                    "goal_target": "5",
                },
            )
            client.post(
                f"{url}/tasks",
                headers=w["bakery_manager"],
                json={"business_id": str(w["bakery"].id), "title": "Напечатать листовки"},
            )
            client.post(
                f"{url}/budget",
                headers=w["bakery_manager"],
                json={
                    "business_id": str(w["bakery"].id),
                    "item": "materials",
                    "amount_minor": 50000,
                    "currency": "RUB",
                },
            )
        for stage in stages:
            if stage == "closed":
                client.put(
                    f"{url}/analysis",
                    headers=w["bakery_manager"],
                    json={"why": "Мало гостей", "keep": "Листовки", "next_action": "Повторить"},
                )
            moved = client.post(f"{url}/stage", headers=w["bakery_manager"], json={"to": stage})
            assert moved.status_code == 200, (stage, moved.text)
        made.append(created.json()["id"])
    return made


def _member(db: Session, business: Business, email: str, role: Role) -> None:
    user = accounts.create_user(db, email=email, password=PASSWORD)
    accounts.grant(db, user=user, workspace_id=business.workspace_id, role=role)
    db.commit()


@pytest.fixture
def audited(app: Any, client: TestClient, db: Session, world: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    w = world
    user_data = _russify(db, w)
    bakery = db.get(Business, w["bakery"].id)
    cafe = db.get(Business, w["cafe"].id)
    assert bakery is not None and cafe is not None
    _member(db, bakery, "manager@example.com", Role.manager)
    _member(db, bakery, "cashier@example.com", Role.cashier)
    now = datetime.now(UTC)
    coalition = loyalty.create_coalition(
        db,
        founder=bakery,
        name="Наша улица",
        now=now,
        point_value_minor=100,
        max_share_bp=5000,
        pending_days=0,
        expiry_months=12,
        earn_milli=50,
    )
    loyalty.invite(db, coalition=coalition, by=bakery, business_id=cafe.id)
    loyalty.join(db, coalition=coalition, business=cafe, earn_milli=50, now=now)
    _card, card_token = loyalty.enrol(
        db, coalition=coalition, business=bakery, consent=True, phone="+7 912 345-67-89", now=now
    )
    form = leads.create_form(
        db,
        operator(bakery),
        bakery.id,
        FormCreate(title="Заявка на ремонт", categories=["craft=plasterer"]),
    )
    leads.create_specialist(
        db, operator(cafe), cafe.id, SpecialistCreate(name="Иван", categories=["craft=plasterer"])
    )
    lead = leads.submit(
        db,
        form,
        RequestIn(categories=["craft=plasterer"], phone="+7 912 345-67-80", consent=[cafe.id]),
        secret_key="test-secret",
    )
    assert lead is not None
    db.commit()
    proposals = _proposal_states(client, w)
    campaigns = _campaign_stages(client, w)
    ids = w["ids"] | {
        "form_id": str(form.id),
        "lead_id": str(lead.id),
        "link": "0",
        "message_id": str(uuid.uuid4()),  # a broadcast is not seeded: its 404 page is audited
        "fmt": "csv",
        "coalition_id": str(coalition.id),
        "token": card_token,
        "kind": "not-found",
        "action": "check",
        "job_id": str(uuid.uuid4()),
        "endpoint_id": str(uuid.uuid4()),  # no webhook endpoint is seeded: its 404 is audited
    }
    bakery_pages = [f"/b/{bakery.id}/proposals/{p}" for p in proposals] + [
        f"/b/{bakery.id}/campaigns/{c}{section}"
        for c in campaigns
        for section in ("", "/measurement/section")
    ]
    return {
        "world": w,
        "ids": ids,
        "user_data": user_data,
        "cafe": str(cafe.id),
        "states": bakery_pages,
    }


ROLES = {
    "owner": "a@example.com",
    "manager": "manager@example.com",
    "cashier": "cashier@example.com",
    "partner": "b@example.com",
    "anonymous": "",
}


def _client(app: Any, email: str, locale: str = "ru") -> tuple[TestClient, str]:
    c = TestClient(app, raise_server_exceptions=False)
    c.cookies.set("locale", locale)
    return c, sign_in(c, email) if email else ""


# What a cashier types at the till: a good code, an unknown one, a missing amount.
TILL = [
    ("check", {"code": "BREAD", "amount": "1 000,50", "customer": "+7 912 000-11-22"}),
    ("check", {"code": "НЕТ-ТАКОГО", "amount": "500"}),
    ("check", {"code": "BREAD", "amount": ""}),
    ("redeem", {"code": "BREAD", "amount": "1000", "customer": "+7 912 000-11-22"}),
    ("redeem", {"code": "BREAD", "amount": "1000", "customer": "+7 912 000-11-22"}),
]


def test_every_page_as_every_role_is_russian(app: Any, audited: dict[str, Any]) -> None:
    enums = enum_words()
    templates = page_templates(app)
    assert len(templates) > 30, templates  # the walk really found the pages
    problems: dict[str, list[str]] = {}
    till_statuses: dict[str, list[int]] = {}
    statuses: dict[int, int] = {}
    for role, email in ROLES.items():
        web, csrf = _client(app, email)
        ids = dict(audited["ids"])
        if role == "partner":
            ids["business_id"] = audited["cafe"]
        paths = [t.format(**ids) for t in templates]
        # error pages: a business nobody can see, and a page in the partner's workspace
        paths += [f"/b/{uuid.uuid4()}/campaigns", f"/b/{audited['ids']['business_id']}/team"]
        if role in ("owner", "manager"):
            paths += audited["states"]
        if role == "anonymous":
            paths += [f"/problems/{kind}" for kind in KINDS]
        for path in paths:
            response = web.get(path, headers={"Accept-Language": "ru"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (role, path, response.text[:500])
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            found = english_in(response.text, audited["user_data"], enums)
            if found:
                problems[f"{role} {path}"] = found
        if role in ("partner", "cashier"):  # the till's verdicts, refusals and errors
            for action, form in TILL:
                till = f"/b/{ids['business_id']}/till/{action}"
                response = web.post(till, data=form | {"csrf_token": csrf})
                assert response.status_code < 500, (role, till, response.text[:500])
                till_statuses.setdefault(role, []).append(response.status_code)
                found = english_in(response.text, audited["user_data"], enums)
                if found:
                    problems[f"{role} POST {till} {form}"] = found
        web.close()
    assert statuses.get(200, 0) > 60, statuses
    # the partner's till accepts the code, refuses a stranger, asks for the amount, redeems
    # once and refuses the second tap's new attempt: every kind of verdict was audited
    assert till_statuses["partner"][0] == 200 and 200 in till_statuses["partner"][3:], till_statuses
    assert any(code >= 400 for code in till_statuses["partner"]), till_statuses
    # English pages name things in words too: no snake_case enum value shows raw
    web, _csrf = _client(app, ROLES["owner"], locale="en")
    snake = {word for word in enums if "_" in word}
    for path in [t.format(**audited["ids"]) for t in templates] + audited["states"]:
        response = web.get(path)
        words = set(re.findall(r"[a-z]+(?:_[a-z]+)+", " ".join(visible_text(response.text))))
        if words & snake:
            problems[f"en {path}"] = sorted(words & snake)
    web.close()
    distinct = sorted({text for found in problems.values() for text in found})
    assert problems == {}, (
        "\n".join(distinct) + "\n\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())
    )


def test_the_audit_sees_english_words_and_raw_enum_values() -> None:
    html = (
        '<main><p>Скидка 10%</p><button title="Save">Сохранить</button><p>Этап: running</p>'
        '<label aria-hidden="true">Website<input name="website"></label><code>GET /api</code>'
        "<textarea>Hello</textarea><p>Поставщик: ООО «Хлеб»</p></main>"
    )
    assert english_in(html, {"ООО «Хлеб»"}, {"running"}) == ["Save", "Этап: running"]
