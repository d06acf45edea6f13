"""No N+1: the statements a page or API read runs do not grow with its rows, on both engines.

Each read is counted once with a small campaign (5 tasks) or pipeline, then again after 50
more tasks or 20 more proposals: the count must stay the same. Counts, never timings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.businesses.schemas import BusinessCreate
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.schemas import BudgetIn, CampaignCreate, TaskIn
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Counter, MessageIn, ProposalCreate
from tests.campaigns.conftest import OPTION
from tests.conftest import PASSWORD, sign_in


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)


def measure(app: Any, client: TestClient, url: str, headers: dict[str, str]) -> int:
    client.get(url, headers=headers)  # warm: connections opened, caches filled
    with statements(app) as seen:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(seen)


def add_tasks(db: Session, agreed: dict[str, Any], campaign_id: uuid.UUID, n: int) -> None:
    """Tasks on both sides, half assigned, mixed due dates and rehearsal items."""
    actor = accounts.actor_for_user(db, agreed["user_a"].id)
    sides = [(agreed["bakery"].id, agreed["user_a"].id), (agreed["cafe"].id, agreed["user_b"].id)]
    start = len(campaigns.tasks(db, campaign_id, limit=10_000))
    for i in range(start, start + n):
        side, person = sides[i % 2]
        campaigns.add_task(
            db,
            actor,
            campaign_id,
            TaskIn(
                business_id=side,
                title=f"Task {i}",
                rehearsal=i % 7 == 0,
                assignee_user_id=person if i % 2 else None,
                due_on=None if i % 5 == 0 else date(2026, 12, 1) + timedelta(days=i % 20),
            ),
        )
    db.commit()


@pytest.fixture
def campaign(db: Session, agreed: dict[str, Any]) -> uuid.UUID:
    """A campaign under the agreement with a budget and 5 tasks."""
    actor = accounts.actor_for_user(db, agreed["user_a"].id)
    found = campaigns.create(
        db,
        actor,
        business_id=agreed["bakery"].id,
        data=CampaignCreate(proposal_id=agreed["proposal_id"], title="Croissant week"),
    )
    for side in (agreed["bakery"], agreed["cafe"]):
        campaigns.add_budget(
            db,
            actor,
            found.id,
            BudgetIn(business_id=side.id, item="materials", amount_minor=5000, currency="RUB"),
        )
    db.commit()
    add_tasks(db, agreed, found.id, 5)
    return found.id


@pytest.mark.parametrize("where", ["page", "api", "api-tasks", "calendar"])
def test_campaign_reads_do_not_grow_with_tasks(
    app: Any,
    client: TestClient,
    db: Session,
    agreed: dict[str, Any],
    campaign: uuid.UUID,
    where: str,
) -> None:
    bakery = agreed["bakery"].id
    url, headers = {
        "page": (f"/b/{bakery}/campaigns/{campaign}", {}),
        "api": (f"/api/v1/campaigns/{campaign}", agreed["bakery_manager"]),
        "api-tasks": (f"/api/v1/campaigns/{campaign}/tasks", agreed["bakery_manager"]),
        "calendar": (f"/api/v1/campaigns/{campaign}/calendar.ics", agreed["bakery_manager"]),
    }[where]
    if where == "page":
        sign_in(client, "a@example.com")
    small = measure(app, client, url, headers)
    add_tasks(db, agreed, campaign, 50)
    assert len(campaigns.tasks(db, campaign)) == 55
    assert measure(app, client, url, headers) == small


def more_proposals(db: Session, agreed: dict[str, Any], n: int) -> None:
    """n partners, each with a proposal from the bakery; some countered, some talked over."""
    owner = accounts.actor_for_user(db, agreed["user_a"].id)
    space = accounts.new_workspace(db, name="Partners")
    partner_owner = accounts.create_user(db, email="partners@example.com", password=PASSWORD)
    accounts.grant(db, user=partner_owner, workspace_id=space.id, role=Role.owner)
    db.commit()
    theirs = accounts.actor_for_user(db, partner_owner.id)
    for i in range(n):
        partner = businesses.create(
            db,
            workspace_id=space.id,
            data=BusinessCreate(name=f"Partner {i}", category="shop=florist"),
        )
        proposal = partnerships.propose(
            db,
            owner,
            from_business_id=agreed["bakery"].id,
            data=ProposalCreate.model_validate({"to_business": partner.slug, "options": [OPTION]}),
        )
        if i % 2:
            partnerships.post_message(db, theirs, proposal.id, MessageIn(text="Tell me more"))
        if i % 3 == 0:
            partnerships.counter(
                db,
                theirs,
                proposal.id,
                Counter.model_validate({"based_on": 1, "options": [OPTION]}),
            )
        db.commit()


@pytest.mark.parametrize("where", ["page", "api"])
def test_proposal_lists_do_not_grow_with_proposals(
    app: Any, client: TestClient, db: Session, agreed: dict[str, Any], where: str
) -> None:
    bakery = agreed["bakery"].id
    url, headers = {
        "page": (f"/b/{bakery}/proposals", {}),
        "api": (f"/api/v1/partnerships?business_id={bakery}", agreed["bakery_manager"]),
    }[where]
    if where == "page":
        sign_in(client, "a@example.com")
    small = measure(app, client, url, headers)
    more_proposals(db, agreed, 20)
    listed = client.get(
        "/api/v1/partnerships",
        params={"business_id": str(bakery)},
        headers=agreed["bakery_manager"],
    ).json()["items"]
    assert len(listed) == 21
    assert sum(len(p["messages"]) for p in listed) == 10
    assert sum(len(p["versions"]) for p in listed) == 21 + 7
    assert measure(app, client, url, headers) == small
