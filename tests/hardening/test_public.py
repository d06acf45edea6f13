"""Outside probes of the public and new endpoints: lead form, preferences and unsubscribe,
message templates, the lead form's snippet. Each answer is a clear refusal, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

COSTLY = [
    '{{ "a" * 100000000 }}',
    "{% for i in range(99999) %}{{ name }}{% endfor %}",
    "{{ lipsum(10000) }}",
    '{{ name|replace("", "xxxxxxxxxx")|replace("", "xxxxxxxxxx") }}',
    "{{ name.__class__ }}",
    "{% set x = name %}{{ x }}",
    "{{ name[0] }}",
    # and what fails only when filled in: refused when written, not in the worker
    "{{ name() }}",
    "{{ 1 < name }}",
    "{{ name|default(1, 2, 3) }}",
]


def test_message_templates_refuse_what_costs_memory_or_time(
    client: TestClient, world: dict[str, Any]
) -> None:
    url = f"/api/v1/businesses/{world['ids']['business_id']}/messages"
    for text in COSTLY:
        body = {"channel": "sms", "content": {"en": {"text": text}}}
        for path in (url, f"{url}/preview"):
            refused = client.post(path, headers=world["headers"], json=body)
            assert refused.status_code == 422, (text, path, refused.text[:300])
            assert refused.json()["type"] == "/problems/validation"


def test_message_templates_keep_fields_conditions_and_text_filters(
    client: TestClient, world: dict[str, Any]
) -> None:
    text = "{% if name %}Hi {{ name|title }}{% else %}Hi{% endif %} from {{ business ~ '!' }}"
    shown = client.post(
        f"/api/v1/businesses/{world['ids']['business_id']}/messages/preview",
        headers=world["headers"],
        json={"channel": "sms", "content": {"en": {"text": text}}},
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["rendered"]["en"]["text"].startswith("Hi ")


def test_messaging_preferences_take_integers_not_strings_or_booleans(
    client: TestClient, world: dict[str, Any]
) -> None:
    url = f"/api/v1/businesses/{world['ids']['business_id']}/messaging-preferences"
    for bad in ({"weekly_cap": "5"}, {"weekly_cap": True}, {"partner_share_bp": "100"}):
        assert client.put(url, headers=world["headers"], json=bad).status_code == 422, bad
    assert client.put(url, headers=world["headers"], json={"weekly_cap": 5}).status_code == 200


def test_the_snippet_escapes_the_form_title(client: TestClient, world: dict[str, Any]) -> None:
    made = client.post(
        f"/api/v1/businesses/{world['ids']['business_id']}/lead-forms",
        headers=world["headers"],
        json={"title": 'Repairs" onload="alert(1)', "categories": ["shop=bakery"]},
    )
    assert made.status_code == 201, made.text
    snippet = made.json()["snippet"]
    assert 'title="Repairs&quot; onload=&quot;alert(1)"' in snippet
    assert 'onload="' not in snippet


def test_public_pages_refuse_bad_input_plainly(client: TestClient, world: dict[str, Any]) -> None:
    form = f"/l/{world['ids']['form_id']}"
    answers = {
        "form without its CSRF token": client.post(form, data={"categories": "shop=bakery"}),
        "embedded form, a NUL byte": client.post(
            f"{form}/embed", data={"need": "a\x00b", "categories": "shop=bakery"}
        ),
        "embedded form, 3 MB": client.post(
            f"{form}/embed", data={"need": "x" * 3_000_000, "categories": "shop=bakery"}
        ),
        "embedded form, a consent that is no id": client.post(
            f"{form}/embed",
            data={"categories": "shop=bakery", "phone": "+79161234567", "consent": "x"},
        ),
        "no such form": client.get(f"{form}0"),
        "consent link, NUL": client.get("/l/consent/%00"),
        "consent link, 5000 characters": client.get("/l/consent/" + "a" * 5000),
        "preferences, NUL": client.get("/u/%00"),
        "preferences, unknown": client.get("/u/" + "a" * 5000),
        "preferences without its CSRF token": client.post("/u/abc", data={"email": "on"}),
        "unsubscribe, unknown channel": client.post("/u/abc/unsubscribe?channel=fax"),
        "unsubscribe, unknown token": client.post("/u/abc/unsubscribe"),
        "API request, 5 MB": client.post(
            f"/api/v1/lead-forms/{world['ids']['form_id']}/requests",
            content=b'{"need": "' + b"x" * 5_000_000 + b'"}',
            headers={"content-type": "application/json"},
        ),
    }
    wrong = {k: r.status_code for k, r in answers.items() if not 400 <= r.status_code < 500}
    assert wrong == {}
