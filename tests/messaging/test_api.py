"""The messaging API: contacts and consent evidence, checked templates, preview in both
languages, the 80/20 rule for partner content, results per message, the CLI."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.roles import Role
from crosspromo.settings import Settings, get_settings

WORDS = "I agree to receive the cafe's news by e-mail."


@pytest.fixture
def api(db: Session, cafe: Any, bakery: Any) -> dict[str, Any]:
    token, _ = accounts.create_api_key(db, business_id=cafe.id, role=Role.manager)
    other, _ = accounts.create_api_key(db, business_id=bakery.id, role=Role.manager)
    db.commit()
    return {
        "base": f"/api/v1/businesses/{cafe.id}",
        "auth": {"Authorization": f"Bearer {token}"},
        "other": {"Authorization": f"Bearer {other}"},
        "bakery": bakery,
    }


EMAIL = {
    "channel": "email",
    "content": {
        "en": {"subject": "Hi {{ name }}", "text": "Hello {{ name }} from {{ business }}"},
        "ru": {"subject": "Привет, {{ name }}", "text": "Здравствуйте, {{ name }}!"},
    },
}


def _contact(client: TestClient, api: dict[str, Any], email: str, consent: bool = True) -> str:
    made = client.post(
        f"{api['base']}/contacts", headers=api["auth"], json={"email": email, "name": "Anna"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["email_consent"] is False  # never assumed
    if consent:
        given = client.post(
            f"{api['base']}/contacts/{made.json()['id']}/consents",
            headers=api["auth"],
            json={"channel": "email", "granted": True, "source": "counter form", "wording": WORDS},
        )
        assert given.status_code == 201, given.text
    return str(made.json()["id"])


def test_contacts_and_consent_evidence(client: TestClient, api: dict[str, Any]) -> None:
    base, auth = api["base"], api["auth"]
    bad = client.post(f"{base}/contacts", headers=auth, json={"email": "not-an-address"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    phone = client.post(f"{base}/contacts", headers=auth, json={"phone": "12"})
    assert phone.status_code == 422 and phone.json()["errors"][0]["field"] == "phone"
    contact = _contact(client, api, "Anna@Example.com", consent=False)
    again = client.post(f"{base}/contacts", headers=auth, json={"email": "anna@example.com"})
    assert again.status_code == 409
    no_words = client.post(
        f"{base}/contacts/{contact}/consents",
        headers=auth,
        json={"channel": "email", "granted": True, "source": "form"},
    )
    assert no_words.status_code == 422
    no_phone = client.post(
        f"{base}/contacts/{contact}/consents",
        headers=auth,
        json={"channel": "sms", "granted": True, "source": "form", "wording": WORDS},
    )
    assert no_phone.status_code == 422
    client.post(
        f"{base}/contacts/{contact}/consents",
        headers=auth,
        json={"channel": "email", "granted": True, "source": "counter form", "wording": WORDS},
    )
    evidence = client.get(f"{base}/contacts/{contact}/consents", headers=auth).json()
    assert [(e["granted"], e["source"], e["wording"]) for e in evidence] == [
        (True, "counter form", WORDS)
    ]
    listed = client.get(f"{base}/contacts", headers=auth, params={"limit": 1}).json()
    assert listed["items"][0]["email"] == "anna@example.com"
    # Another business cannot see this contact.
    outsider = client.get(f"{base}/contacts/{contact}/consents", headers=api["other"])
    assert outsider.status_code == 404


def test_templates_are_checked_and_previewed(client: TestClient, api: dict[str, Any]) -> None:
    base, auth = api["base"], api["auth"]
    typo = {
        "channel": "email",
        "content": {"en": {"subject": "Hi", "text": "Hello {{ nmae }}"}},
    }
    answer = client.post(f"{base}/messages", headers=auth, json=typo)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "content.en.text"
    assert "nmae" in answer.json()["detail"]
    broken = {"channel": "sms", "content": {"en": {"text": "Hello {{ name "}}}
    assert client.post(f"{base}/messages", headers=auth, json=broken).status_code == 422
    huge = {
        "channel": "email",
        "content": {
            "en": {"subject": "Photo", "text": "x", "html": "<img src='data:," + "A" * 10**7}
        },
    }
    assert client.post(f"{base}/messages", headers=auth, json=huge).status_code in (413, 422)
    long_sms = {"channel": "sms", "content": {"en": {"text": "x" * 2000}}}
    refused = client.post(f"{base}/messages", headers=auth, json=long_sms)
    assert refused.status_code == 413 and refused.json()["type"].endswith("/too-large")
    shown = client.post(f"{base}/messages/preview", headers=auth, json=EMAIL).json()["rendered"]
    assert shown["en"]["text"] == "Hello Anna from Cafe Lumiere"
    assert shown["ru"]["subject"] == "Привет, Анна"


def test_send_results_and_partner_share(
    client: TestClient, api: dict[str, Any], settings: Settings
) -> None:
    base, auth = api["base"], api["auth"]
    for i in range(3):
        _contact(client, api, f"guest{i}@example.com", consent=i < 2)
    partner = {**EMAIL, "partner_business_id": str(api["bakery"].id)}
    mention = client.post(f"{base}/messages", headers=auth, json=partner).json()
    # No messages of our own yet: the bakery's mention would be 100% of them.
    refused = client.post(f"{base}/messages/{mention['id']}/send", headers=auth)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/partner-share")
    for _ in range(4):
        own = client.post(f"{base}/messages", headers=auth, json=EMAIL).json()
        queued = client.post(f"{base}/messages/{own['id']}/send", headers=auth)
        assert queued.json() == {"recipients": 2}
    assert client.post(f"{base}/messages/{own['id']}/send", headers=auth).json() == {
        "recipients": 0
    }
    sent = client.post(f"{base}/messages/{mention['id']}/send", headers=auth)
    assert sent.status_code == 200 and sent.json() == {"recipients": 2}  # 1 of 5: 20%
    second = client.post(f"{base}/messages", headers=auth, json=partner).json()
    over = client.post(f"{base}/messages/{second['id']}/send", headers=auth)
    assert over.status_code == 409  # 2 of 6 would be more than 20%
    shown = client.get(f"{base}/messages/{mention['id']}", headers=auth).json()
    assert shown["status"] == "queued" and shown["results"]["queued"] == 2
    page = client.get(f"{base}/messages", headers=auth, params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert client.get(f"{base}/messages/{mention['id']}", headers=api["other"]).status_code == 404
    assert client.get(f"{base}/messages/not-an-id", headers=auth).status_code == 404


def test_cli_send_list_stats(
    client: TestClient,
    api: dict[str, Any],
    settings: Settings,
    cafe: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from typer.testing import CliRunner

    from crosspromo.cli import app as cli

    _contact(client, api, "guest@example.com")
    path = tmp_path / "message.json"
    path.write_text(json.dumps(EMAIL["content"]), encoding="utf-8")
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        sent = runner.invoke(
            cli, ["messages", "send", "--business", cafe.slug, "--content", str(path)]
        )
        assert sent.exit_code == 0, sent.output
        assert "queued to 1 contacts" in sent.output
        message_id = sent.output.split("Message ", 1)[1].split(" ", 1)[0]
        listed = runner.invoke(cli, ["messages", "list", "--business", cafe.slug])
        assert message_id[:8] in listed.output
        counted = runner.invoke(cli, ["messages", "stats", message_id, "--business", cafe.slug])
        assert counted.exit_code == 0 and "queued" in counted.output
        path.write_text(json.dumps({"en": {"subject": "x", "text": "{{ missing }}"}}))
        bad = runner.invoke(
            cli, ["messages", "send", "--business", cafe.slug, "--content", str(path)]
        )
        assert bad.exit_code == 1 and "missing" in bad.output
    finally:
        get_settings.cache_clear()


def test_links_must_be_written_out(client: TestClient, api: dict[str, Any]) -> None:
    base, auth = api["base"], api["auth"]
    for text in ("{{ link(name) }}", '{{ link("javascript:alert(1)") }}'):
        body = {"channel": "sms", "content": {"en": {"text": text}}}
        answer = client.post(f"{base}/messages", headers=auth, json=body)
        assert (
            answer.status_code == 422 and answer.json()["errors"][0]["field"] == "content.en.text"
        )
