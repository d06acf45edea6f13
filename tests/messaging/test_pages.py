"""The message pages: overview, editor with a preview in both languages, results, test send,
and the preferences page a contact reaches from a message."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.messaging import contacts
from crosspromo.outbox.models import OutboxMessage
from tests.conftest import sign_in
from tests.messaging.conftest import consenting

FORM = {
    "channel": "email",
    "en_subject": "News from {{ business }}",
    "en_text": "Hello {{ name }}",
    "en_html": "<p>Hello {{ name }}</p>",
    "ru_subject": "Новости {{ business }}",
    "ru_text": "Здравствуйте, {{ name }}",
    "ru_html": "",
}


def test_editor_preview_save_send_and_test(client: TestClient, db: Session, cafe: Any) -> None:
    consenting(db, cafe.id, 3)
    csrf = sign_in(client, "cafe@example.com")
    base = f"/b/{cafe.id}/messages"
    overview = client.get(base)
    assert overview.status_code == 200 and "Consenting by e-mail: 3" in overview.text
    assert client.get(f"{base}/new").status_code == 200

    shown = client.post(f"{base}/preview", data=FORM, headers={"X-CSRF-Token": csrf})
    assert shown.status_code == 200
    assert "Hello Anna" in shown.text and "Здравствуйте, Анна" in shown.text
    typo = client.post(
        f"{base}/preview", data={**FORM, "en_text": "{{ nmae }}"}, headers={"X-CSRF-Token": csrf}
    )
    assert "nmae" in typo.text and "content.en.text" in typo.text
    refused = client.post(base, data={**FORM, "en_text": "{{ nmae }}", "csrf_token": csrf})
    assert refused.status_code == 422 and "nmae" in refused.text

    saved = client.post(base, data={**FORM, "csrf_token": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    message = saved.headers["location"]
    page = client.get(message)
    assert page.status_code == 200 and "Message saved." in page.text
    assert "Send to consenting contacts" in page.text

    tested = client.post(
        f"{message}/test", data={"to": "me@example.com", "csrf_token": csrf}, follow_redirects=False
    )
    assert tested.status_code == 303
    tests = list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")))
    assert sorted(m.payload["subject"] for m in tests if m.payload["to"] == "me@example.com") == [
        "[test en] News from Cafe Lumiere",
        "[test ru] Новости Cafe Lumiere",
    ]
    sent = client.post(f"{message}/send", data={"csrf_token": csrf}, follow_redirects=False)
    assert sent.status_code == 303
    after = client.get(message)
    assert "Queued to 3 contacts." in after.text
    assert "Send to consenting contacts" not in after.text
    # In Russian too.
    client.cookies.set("locale", "ru")
    russian = client.get(base)
    assert "Сообщения" in russian.text and "Согласны на e-mail: 3" in russian.text


def test_preferences_page_in_the_contact_language(
    client: TestClient, db: Session, cafe: Any
) -> None:
    people = consenting(db, cafe.id, 2)  # guest1 reads Russian
    page = client.get(f"/u/{people[1].token}")
    assert page.status_code == 200 and "Ваши настройки рассылок" in page.text
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    saved = client.post(f"/u/{people[1].token}", data={"csrf_token": csrf, "sms": "on"})
    assert saved.status_code == 200 and "Сохранено" in saved.text, saved.text[
        saved.text.find("<main") :
    ][:800]
    db.expire_all()
    db.refresh(people[1])
    assert not people[1].email_consent and people[1].sms_consent
    (given, *_) = contacts.consents(db, people[1])
    assert given.granted and given.source == "preferences page"
    assert given.wording.startswith("Я согласен")
    assert client.get("/u/unknown-token").status_code == 404


def test_send_calendar_shows_messages_on_their_day(
    client: TestClient, db: Session, cafe: Any
) -> None:
    from datetime import UTC, datetime

    from crosspromo.messaging import service
    from crosspromo.messaging.models import BroadcastStatus, Channel

    consenting(db, cafe.id, 2)
    made = service.create(
        db,
        business_id=cafe.id,
        sender_name=cafe.name,
        channel=Channel.sms,
        content={"en": {"text": "Hi {{ name }}"}},
    )
    # 21:30 UTC on 30 Nov is already 1 Dec in Perm (UTC+5), the cafe's zone
    made.status, made.recipients = BroadcastStatus.queued, 2
    made.queued_at = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    cafe.timezone = "Asia/Yekaterinburg"
    db.commit()
    sign_in(client, "cafe@example.com")
    base = f"/b/{cafe.id}/messages/calendar"
    november = client.get(base, params={"month": "2026-11"})
    assert november.status_code == 200 and str(made.id) not in november.text
    december = client.get(base, params={"month": "2026-12"})
    assert str(made.id) in december.text and 'href="?month=2026-11"' in december.text
    client.cookies.set("locale", "ru")
    assert "Календарь рассылок" in client.get(base, params={"month": "junk"}).text
