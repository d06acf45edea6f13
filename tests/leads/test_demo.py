"""Done when: in the demo set-up, a request on the estate agent's form reaches a plasterer
specialist, moves on after the deadline when unanswered, is accepted, marked won with an
amount, and appears in the partners' statement as a paid lead."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from crosspromo.cli_support import operator
from crosspromo.db import utcnow
from crosspromo.leads import service
from crosspromo.leads.demo import PRICE_MINOR, demo_exchange, pair
from crosspromo.leads.models import Lead
from crosspromo.leads.schemas import RequestIn, StatusIn
from crosspromo.offers import statements
from tests.conftest import make_owner

PLACE = {"country": "RU", "timezone": "Europe/Moscow", "currency": "RUB", "city": "Demo"}


def test_demo_story(db: Session) -> None:
    make_owner(
        db, "a@example.com", "Keys Agency", "office=estate_agent", lat=55.75, lon=37.61, **PLACE
    )
    make_owner(
        db, "p@example.com", "Smooth Walls", "craft=plasterer", lat=55.76, lon=37.63, **PLACE
    )
    make_owner(db, "q@example.com", "Far Walls", "craft=plasterer", lat=59.9, lon=30.3, **PLACE)
    found = pair(db)
    assert found is not None
    agent, plasterer = found
    assert plasterer.name == "Smooth Walls"  # the nearest plasterer
    made = demo_exchange(db, agent, plasterer)
    assert demo_exchange(db, agent, plasterer).form.id == made.form.id  # once
    db.commit()

    request = RequestIn(
        categories=["craft=plasterer"],
        district="Centre",
        phone="+7 912 345-67-89",
        consent=[plasterer.id],
        need="Plaster a two-room flat",
    )
    lead = service.submit(db, made.form, request, secret_key="test-secret")
    assert lead is not None and lead.status.value == "offered"
    first = lead.specialist_id
    assert first in {s.id for s in made.specialists}

    # unanswered for a week of working hours: the worker moves it on
    assert service.sweep(db, now=utcnow() + timedelta(days=7)) >= 1
    db.refresh(lead)
    assert lead.status.value == "offered" and lead.specialist_id != first

    as_plasterer = operator(plasterer)
    assert lead.specialist_id is not None
    service.accept(db, as_plasterer, lead.id, lead.specialist_id, now=utcnow() + timedelta(days=7))
    service.set_status(
        db, as_plasterer, lead.id, StatusIn(status="won", amount_minor=12_000_000, currency="RUB")
    )
    db.commit()
    assert db.get(Lead, lead.id).status.value == "won"  # type: ignore[union-attr]

    today = date.today()
    found_statement = statements.statement(
        db,
        operator(agent),
        agent.id,
        plasterer.id,
        today - timedelta(days=1),
        today + timedelta(days=8),
    )
    assert [(line.kind, line.amount_minor, line.direction) for line in found_statement.lines] == [
        ("lead", PRICE_MINOR, statements.RECEIVABLE)
    ]
