"""The demo story: the bakery's mention rides in the cafe's newsletter within the 80/20 rule,
with a tracking link per recipient."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.messaging import service
from crosspromo.settings import Settings
from tests.conftest import sign_in
from tests.messaging.conftest import Mailbox, consenting
from tests.messaging.test_delivery import tick
from tests.offers.partners import agree

OWN = {
    "channel": "email",
    "content": {"en": {"subject": "This week", "text": "Hello {{ name }}", "html": "<p>Hi</p>"}},
}
MENTION = {
    "en": {
        "text": 'Fresh bread next door: {{ link("https://bakery.example/bread") }}',
        "html": '<p><a href="{{ link("https://bakery.example/bread") }}">Bread</a></p>',
    }
}


def test_the_cafe_newsletter_carries_the_bakery_mention(
    client: TestClient,
    db: Session,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    monkeypatch: Any,
) -> None:
    box, _ = mailbox
    p = agree(client, db)
    cafe, bakery = p["cafe"], p["bakery"]
    settings = channels_settings.model_copy(update={"messages_weekly_cap": 10})
    monkeypatch.setattr(client.app.state, "settings", settings)
    consenting(db, cafe.id, 2)
    cafe_api = f"/api/v1/businesses/{cafe.id}"
    bakery_api = f"/api/v1/businesses/{bakery.id}"

    outsider = client.post(
        f"/api/v1/businesses/{p['outsider'].id}/exchange/mentions",
        headers=p["outsider_owner"],
        json={"host_business_id": str(cafe.id), "content": MENTION},
    )
    assert outsider.status_code == 403  # no agreement with the cafe
    offered = client.post(
        f"{bakery_api}/exchange/mentions",
        headers=p["bakery_manager"],
        json={"host_business_id": str(cafe.id), "content": MENTION},
    )
    assert offered.status_code == 201, offered.text
    mention = offered.json()["id"]
    listed = client.get(f"{cafe_api}/exchange/received", headers=p["cafe_owner"]).json()
    assert [m["status"] for m in listed] == ["submitted"]
    approved = client.post(
        f"{cafe_api}/exchange/received/{mention}/decision",
        headers=p["cafe_owner"],
        json={"approve": True},
    )
    assert approved.json()["status"] == "approved"
    again = client.post(
        f"{cafe_api}/exchange/received/{mention}/decision",
        headers=p["cafe_owner"],
        json={"approve": False},
    )
    assert again.status_code == 409

    sent = []
    for _ in range(5):
        made = client.post(f"{cafe_api}/messages", headers=p["cafe_owner"], json=OWN).json()
        client.post(f"{cafe_api}/messages/{made['id']}/send", headers=p["cafe_owner"])
        sent.append(made["id"])
    # 1 of 1, 2, 3, 4 messages would break 20%; the fifth carries it (1 of 5).
    shown = [client.get(f"{cafe_api}/messages/{m}", headers=p["cafe_owner"]).json() for m in sent]
    assert [s["partner_business_id"] for s in shown] == [None] * 4 + [str(bakery.id)]
    (used,) = client.get(f"{cafe_api}/exchange/received", headers=p["cafe_owner"]).json()
    assert used["status"] == "used" and used["broadcast_id"] == sent[4]

    tick(settings)
    carrying = [m for m in box.messages if "Fresh bread" in m.get_body(("plain",)).get_content()]
    assert len(carrying) == 2
    link = carrying[0].get_body(("plain",)).get_content().split("next door: ")[1].strip()
    followed = client.get(link.removeprefix("https://promo.example"), follow_redirects=False)
    assert followed.headers["location"] == "https://bakery.example/bread"
    db.expire_all()
    fifth = service.get(db, business_id=cafe.id, broadcast_id=uuid.UUID(sent[4]))
    assert service.stats(db, fifth)["clicked"] == 1 and service.stats(db, fifth)["sent"] == 2


def test_exchange_volumes_count_what_was_sent_against_the_terms(
    client: TestClient,
    db: Session,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
    monkeypatch: Any,
) -> None:
    """Three dedicated mailings from the bakery (the smaller side) for one mention a month in
    the cafe's newsletter: the reciprocity view counts the messages actually sent."""
    p = agree(
        client,
        db,
        exchanges=[
            {"what": "Dedicated mailing", "per_month": 3, "by": "proposer", "sent_as": "mailing"},
            {"what": "Newsletter mention", "per_month": 1, "by": "partner", "sent_as": "mention"},
            {"what": "Poster in the window", "per_month": 1, "by": "partner"},
        ],
    )
    cafe, bakery = p["cafe"], p["bakery"]
    settings = channels_settings.model_copy(update={"messages_weekly_cap": 10})
    original = client.app.state.settings
    monkeypatch.setattr(client.app.state, "settings", settings)
    consenting(db, cafe.id, 2)
    consenting(db, bakery.id, 3, prefix="bakery-guest", start=10)  # other people
    cafe_api = f"/api/v1/businesses/{cafe.id}"
    bakery_api = f"/api/v1/businesses/{bakery.id}"
    offered = client.post(
        f"{bakery_api}/exchange/mentions",
        headers=p["bakery_manager"],
        json={"host_business_id": str(cafe.id), "content": MENTION},
    ).json()
    client.post(
        f"{cafe_api}/exchange/received/{offered['id']}/decision",
        headers=p["cafe_owner"],
        json={"approve": True},
    )
    for _ in range(5):  # the fifth carries the mention (80/20)
        made = client.post(f"{cafe_api}/messages", headers=p["cafe_owner"], json=OWN).json()
        client.post(f"{cafe_api}/messages/{made['id']}/send", headers=p["cafe_owner"])
    client.put(
        f"{bakery_api}/messaging-preferences",
        headers=p["bakery_owner"],
        json={"partner_share_bp": 5000},
    )
    own = client.post(f"{bakery_api}/messages", headers=p["bakery_owner"], json=OWN).json()
    client.post(f"{bakery_api}/messages/{own['id']}/send", headers=p["bakery_owner"])
    mailing = client.post(
        f"{bakery_api}/messages",
        headers=p["bakery_owner"],
        json=OWN | {"partner_business_id": str(cafe.id)},
    ).json()
    queued = client.post(f"{bakery_api}/messages/{mailing['id']}/send", headers=p["bakery_owner"])
    assert queued.status_code == 200, queued.text
    tick(settings)

    figures = client.get(
        f"/api/v1/partnerships/{p['proposal_id']}/reciprocity", headers=p["cafe_owner"]
    )
    assert figures.status_code == 200, figures.text
    items = {i["what"]: i for side in figures.json()["sides"] for i in side["items"]}
    mailings, mention = items["Dedicated mailing"], items["Newsletter mention"]
    assert (mailings["sent_as"], mailings["sent"], mailings["reached"]) == ("mailing", 1, 3)
    assert (mention["sent_as"], mention["sent"], mention["reached"]) == ("mention", 1, 2)
    assert mailings["delivered"] == 1 and mention["delivered"] == 1
    # the cafe's own newsletters are not mentions; the poster is still recorded by hand
    assert (items["Poster in the window"]["sent_as"], items["Poster in the window"]["sent"]) == (
        None,
        0,
    )
    client.app.state.settings = original  # signing in needs its rate limits
    sign_in(client, "b@example.com")
    page = client.get(f"/b/{cafe.id}/pipeline/reciprocity/{p['proposal_id']}")
    assert page.status_code == 200 and "1 sent through messages, 2 recipients" in page.text
