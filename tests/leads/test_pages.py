"""The public form (standalone, in the customer's language, and embedded in a partner's site),
the business's lead pipeline with its figures, and accepting from the lead's page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.leads.models import Lead
from tests.conftest import sign_in


def _fields(x: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "categories": ["craft=plasterer"],
        "district": "Centre",
        "name": "Anna",
        "phone": "+7 912 345-67-89",
        "consent": [str(x["plasterer"].id)],
        "website": "",
        **extra,
    }


def test_public_form_in_russian_then_sent(client: TestClient, exchange: dict[str, Any]) -> None:
    x = exchange
    url = f"/l/{x['form']['id']}"
    shown = client.get(url, headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert shown.status_code == 200
    assert "Отправить заявку" in shown.text and "Plasterers" in shown.text
    assert 'name="website"' in shown.text  # the honeypot
    token = shown.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    bad = client.post(url, data=_fields(x, phone="12", csrf_token=token))
    assert bad.status_code == 422 and 'data-kind="phone-invalid"' in bad.text
    sent = client.post(url, data=_fields(x, csrf_token=token))
    assert sent.status_code == 201 and "data-reference" in sent.text


def test_embedded_form_may_be_framed_and_sent_without_a_cookie(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    url = f"/l/{x['form']['id']}/embed"
    shown = client.get(url)
    assert shown.status_code == 200
    assert "x-frame-options" not in shown.headers
    assert "frame-ancestors *" in shown.headers["content-security-policy"]
    assert client.get(f"/l/{x['form']['id']}").headers["x-frame-options"] == "DENY"
    client.cookies.clear()
    sent = client.post(url, data=_fields(x))
    assert sent.status_code == 201, sent.text
    assert db.scalar(select(Lead.status)) is not None
    assert x["form"]["snippet"].startswith("<iframe") and "/embed" in x["form"]["snippet"]


def test_pipeline_page_with_figures_and_accept(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    sent = client.post(
        f"/api/v1/lead-forms/{x['form']['id']}/requests",
        json={
            "categories": ["craft=plasterer"],
            "district": "Centre",
            "phone": "+7 912 345-67-89",
            "consent": [str(x["plasterer"].id)],
        },
    )
    assert sent.status_code == 201
    lead = db.scalar(select(Lead))
    assert lead is not None
    csrf = sign_in(client, "plaster@example.com")
    board = client.get(f"/b/{x['plasterer'].id}/leads")
    assert board.status_code == 200 and "lead-figures" in board.text
    page = client.get(f"/b/{x['plasterer'].id}/leads/{lead.id}")
    assert page.status_code == 200 and "Accept for" in page.text
    took = client.post(
        f"/b/{x['plasterer'].id}/leads/{lead.id}/accept",
        data={"csrf_token": csrf, "specialist_id": str(lead.specialist_id)},
        follow_redirects=False,
    )
    assert took.status_code == 303
    won = client.post(
        f"/b/{x['plasterer'].id}/leads/{lead.id}/status",
        data={"csrf_token": csrf, "status": "won", "amount": "15 000,50"},
        follow_redirects=False,
    )
    assert won.status_code == 303
    db.expire_all()
    done = db.get(Lead, lead.id)
    assert done is not None and done.status.value == "won" and done.amount_minor == 1_500_050
    board = client.get(f"/b/{x['plasterer'].id}/leads")
    assert "100%" in board.text
