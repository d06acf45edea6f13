"""`crosspromo worker` relearns partner relations after an import, only where it changed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.imports import service as imports
from crosspromo.matching import aggregates, scheduled
from crosspromo.matching.models import LearnedPair, LearningState
from crosspromo.outbox import cli as outbox_cli
from crosspromo.outbox import worker
from crosspromo.settings import Settings
from tests.matching import cities


def _pair(db: Session, a: str, b: str) -> LearnedPair | None:
    x, y = businesses.get_by_slug(db, a), businesses.get_by_slug(db, b)
    assert x is not None and y is not None
    first, second = sorted((x.id, y.id), key=str)
    return db.scalar(
        select(LearnedPair).where(LearnedPair.business_a == first, LearnedPair.business_b == second)
    )


def test_worker_relearns_after_an_import(db: Session, settings: Settings, tmp_path: Path) -> None:
    cities.build(db, seed=3, scale=1.0)
    db.commit()
    engine = make_engine(settings.resolved_database_url())
    factory = make_sessionmaker(engine)
    outbox_cli.jobs()
    assert scheduled.relearn in worker.JOBS
    # The first tick learns from everyone; the next has nothing to do.
    worker.tick(factory, settings)
    db.expire_all()
    state = db.get(LearningState, 1)
    assert state is not None and state.full_at is not None and state.pairs > 0
    before = _pair(db, "kitchen-1", "plasterer-1")
    assert before is not None
    shared, mark, full_at = before.shared, state.last_transaction, state.full_at
    assert aggregates.between(db, "craft=plasterer", "shop=kitchen", "Testburg") is not None
    with factory() as session:
        assert scheduled.relearn(session) == 0
    # An import: one new person buys at kitchen-1, then at plasterer-1.
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "business,customer,email,phone,name,marketing_consent,first_seen\n"
        "kitchen-1,NEW1,new.person@example.org,,New Person,no,2026-01-01\n"
        "plasterer-1,NEW1,new.person@example.org,,New Person,no,2026-02-01\n",
        encoding="utf-8",
    )
    receipts = tmp_path / "transactions.csv"
    receipts.write_text(
        "business,id,customer,at,amount,currency,items\n"
        "kitchen-1,NEWR1,NEW1,2026-01-01T10:00:00,90000.00,RUB,Kitchen\n"
        "plasterer-1,NEWR2,NEW1,2026-02-01T10:00:00,30000.00,RUB,Ceiling\n",
        encoding="utf-8",
    )
    imports.run(
        db, kind="customers", path=customers, secret_key=settings.secret_key.get_secret_value()
    )
    imports.run(
        db, kind="transactions", path=receipts, secret_key=settings.secret_key.get_secret_value()
    )
    db.commit()
    with factory() as session:
        changed = scheduled.affected(session, mark)
    assert {b for b in changed} == {
        businesses.get_by_slug(db, "kitchen-1").id,  # type: ignore[union-attr]
        businesses.get_by_slug(db, "plasterer-1").id,  # type: ignore[union-attr]
    }
    worker.tick(factory, settings)
    db.expire_all()
    after = _pair(db, "kitchen-1", "plasterer-1")
    assert after is not None and after.shared == shared + 1
    untouched = _pair(db, "estate-agent-2", "furniture-2")
    assert untouched is not None and untouched.computed_at == full_at
    engine.dispose()
