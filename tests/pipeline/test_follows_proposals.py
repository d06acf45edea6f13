"""Entries follow their proposals when the proposal changes; reading the pipeline writes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Counter, Option
from crosspromo.pipeline.models import PipelineEntry, Stage
from crosspromo.roles import Role
from tests.conftest import sign_in
from tests.pipeline.factories import OPTION, agree, parties, propose


def _stages(db: Session, proposal: Any) -> dict[Any, Stage]:
    db.expire_all()
    rows = db.scalars(select(PipelineEntry).where(PipelineEntry.proposal_id == proposal.id))
    return {e.business_id: e.stage for e in rows}


def test_entries_follow_the_proposal_as_it_changes(db: Session) -> None:
    p = parties(db)
    proposal = propose(db, p)
    sides = (p["bakery"].id, p["cafe"].id)
    assert _stages(db, proposal) == dict.fromkeys(sides, Stage.proposal)
    partnerships.counter(
        db,
        p["b"],
        proposal.id,
        Counter(based_on=1, options=[Option.model_validate(OPTION)], note="December?"),
    )
    db.commit()
    assert _stages(db, proposal) == dict.fromkeys(sides, Stage.negotiating)
    agree(db, p, proposal)
    assert _stages(db, proposal) == dict.fromkeys(sides, Stage.active)


def test_reading_the_pipeline_writes_nothing(app: Any, client: TestClient, db: Session) -> None:
    p = parties(db)
    agree(db, p, propose(db, p))
    token, _ = accounts.create_api_key(db, business_id=p["bakery"].id, role=Role.manager)
    db.commit()
    writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and "pipeline_" in statement:
            writes.append(statement)

    sign_in(client, "a@example.com")
    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        base = f"/api/v1/businesses/{p['bakery'].id}/pipeline"
        auth = {"Authorization": f"Bearer {token}"}
        for url in (f"{base}/entries", f"{base}/stages", f"{base}/reminders"):
            assert client.get(url, headers=auth).status_code == 200, url
        board = client.get(f"/b/{p['bakery'].id}/pipeline")
        assert board.status_code == 200 and 'data-stage="active"' in board.text
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    assert writes == []
