"""Refusals name the field by its label in the request's language: problem+json `errors`
for the API, a message under the field (with what was typed kept) on the proposal form."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import sign_in
from tests.partnerships.test_pages import FORM
from tests.partnerships.test_proposals import OPTION, parties  # noqa: F401  (a fixture)


def _send(client: TestClient, p: dict[str, Any], option: dict[str, Any], language: str) -> Any:
    return client.post(
        "/api/v1/partnerships",
        params={"business_id": str(p["bakery"].id)},
        headers={**p["bakery_manager"], "Accept-Language": language},
        json={"to_business": p["cafe"].slug, "options": [option]},
    )


def test_api_errors_are_sentences_in_the_request_language(
    client: TestClient,
    parties: dict[str, Any],  # noqa: F811
) -> None:
    p = parties
    bad = {**OPTION, "payment_model": "per_sale_percent", "payment_percent": "lots"}
    ru = _send(client, p, bad, "ru-RU,ru;q=0.9,en;q=0.5")
    assert ru.status_code == 422 and ru.json()["type"] == "/problems/validation"
    assert ru.json()["errors"] == [
        {"field": "options.0.payment_percent", "message": "Процент: введите число, например 10,5"}
    ]
    assert ru.json()["detail"] == "Процент: введите число, например 10,5"
    en = _send(client, p, {**OPTION, "ends_on": "2026-11-01"}, "en")
    assert en.json()["errors"] == [
        {"field": "options.0.ends_on", "message": "Ends: is before the start date"}
    ]
    needs = _send(client, p, {**OPTION, "payment_model": "per_sale_percent"}, "ru")
    assert needs.json()["errors"][0]["field"] == "options.0.payment_percent"
    assert needs.json()["errors"][0]["message"] == ("Процент: для этой модели оплаты нужен процент")
    unknown = client.post(
        "/api/v1/partnerships",
        params={"business_id": str(p["bakery"].id)},
        headers={**p["bakery_manager"], "Accept-Language": "ru"},
        json={"options": [OPTION]},
    )
    assert unknown.json()["errors"][0] == {
        "field": "to_business",
        "message": "Кому: заполните это поле",
    }


def test_proposal_form_takes_a_decimal_comma_and_keeps_typed_values(
    client: TestClient,
    parties: dict[str, Any],  # noqa: F811
) -> None:
    p = parties
    csrf = sign_in(client, "a@example.com")
    client.cookies.set("locale", "ru")
    url = f"/b/{p['bakery'].id}/proposals/new"
    form = {**FORM, "to": p["cafe"].slug, "csrf_token": csrf}
    form |= {"o0.payment_model": "per_sale_percent", "o0.payment_percent": "десять"}
    bad = client.post(url, data=form)
    assert bad.status_code == 422
    assert '<small class="field-error" role="alert">Процент: введите число' in bad.text
    assert 'value="десять"' in bad.text and "<details open>" in bad.text
    assert "Input should" not in bad.text and "payment_percent:" not in bad.text
    sent = client.post(url, data={**form, "o0.payment_percent": "10,5"}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    proposal_id = sent.headers["location"].rsplit("/", 1)[1]
    stored = client.get(f"/api/v1/partnerships/{proposal_id}", headers=p["bakery_manager"])
    assert stored.json()["versions"][-1]["options"][0]["payment_percent"] in ("10.5", "10.50")
