"""One transaction rule: the request's session commits (before the answer) or rolls back.

Nothing in src calls commit() but the two units of work (db.py's `unit_of_work` and the
request's `get_db`); a failed commit is an error answer, never a success already sent.
"""

from __future__ import annotations

import ast
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import crosspromo
from crosspromo.errors import Conflict
from crosspromo.offers.models import Attempt
from crosspromo.web.deps import Db

SRC = Path(crosspromo.__file__).parent
# The documented units of work: the helper for CLI and worker, and the request's session.
COMMIT_ALLOWED = {"db.py", "web/deps.py"}


def _commits(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_nothing_in_src_commits_but_the_units_of_work() -> None:
    found = [
        f"{path.relative_to(SRC)}:{line}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).as_posix() not in COMMIT_ALLOWED
        for line in _commits(path)
    ]
    assert not found, f"commit() outside the units of work: {found}"
    assert _commits(SRC / "db.py") and _commits(SRC / "web" / "deps.py")


def _attempt(outcome: str) -> Attempt:
    return Attempt(
        business_id=None, action="test", code="X", outcome=outcome, caller="t", client_address=""
    )


def _count(db: Session, outcome: str) -> int:
    db.expire_all()
    return int(
        db.scalar(select(func.count()).select_from(Attempt).where(Attempt.outcome == outcome)) or 0
    )


@pytest.fixture
def probe(app: Any) -> Any:
    """Three routes that write one row: then answer, then refuse, then crash."""
    router = APIRouter()

    @router.post("/api/v1/test-writes/{outcome}")
    def write(outcome: str, db: Db) -> dict[str, str]:
        db.add(_attempt(outcome))
        db.flush()
        if outcome == "refused":
            raise Conflict("refused after writing")
        if outcome == "crashed":
            raise RuntimeError("token=hunter2 crashed after writing")
        return {"ok": outcome}

    app.include_router(router)
    return app


def test_success_commits_and_errors_roll_back(probe: Any, client: TestClient, db: Session) -> None:
    assert client.post("/api/v1/test-writes/kept").status_code == 200
    assert client.post("/api/v1/test-writes/refused").status_code == 409
    assert client.post("/api/v1/test-writes/crashed").status_code == 500
    assert _count(db, "kept") == 1
    assert _count(db, "refused") == 0
    assert _count(db, "crashed") == 0


def test_a_failed_commit_is_an_error_answer_not_a_success(
    probe: Any, client: TestClient, db: Session
) -> None:
    """The commit runs before the answer is sent (Depends(..., scope="function"))."""

    class FailingCommit(Session):
        def commit(self) -> None:
            raise RuntimeError("the database refused the commit")

    probe.state.sessions = sessionmaker(probe.state.engine, class_=FailingCommit)
    response = client.post("/api/v1/test-writes/lost")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _count(db, "lost") == 0


def test_the_500_handler_answers_a_problem_or_a_page_never_a_trace(
    probe: Any, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    api = client.post("/api/v1/test-writes/crashed")
    assert api.status_code == 500
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()
    assert body["type"].endswith("/problems/internal") and body["status"] == 500
    assert "hunter2" not in api.text and "Traceback" not in api.text
    # logged on the server, with the trace
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records), (
        caplog.records
    )

    router = APIRouter()

    @router.get("/test-crash-page")
    def crash_page() -> None:
        raise RuntimeError("token=hunter2 on a page")

    probe.include_router(router)
    page = client.get("/test-crash-page", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()
    assert "hunter2" not in page.text and "Traceback" not in page.text
    assert "Something failed on our side" in page.text


def test_unit_of_work_commits_or_rolls_back(db: Session, app: Any) -> None:
    from crosspromo.db import unit_of_work

    outcome = f"uow-{uuid.uuid4().hex[:8]}"
    with unit_of_work(app.state.sessions) as session:
        session.add(_attempt(outcome))
    with pytest.raises(RuntimeError), unit_of_work(app.state.sessions) as session:
        session.add(_attempt(outcome + "-lost"))
        session.flush()
        raise RuntimeError("stop")
    assert _count(db, outcome) == 1 and _count(db, outcome + "-lost") == 0
