"""Two owners acting at the same moment, from separate processes, on SQLite and PostgreSQL.

The cafe's owner counters (making version 2) while the bakery's owner accepts version 1 and the
cafe's owner, in a third process, also accepts version 1. Whatever the interleaving, the result
is consistent: either an agreement on version 1 and the counter refused, or the counter landed
and every acceptance of version 1 after it was refused. Never both, never an error.
"""

from __future__ import annotations

import multiprocessing as mp
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.businesses.models import Business
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.errors import Conflict
from crosspromo.partnerships import service
from crosspromo.partnerships.models import Acceptance, Proposal, Status, TermsVersion
from crosspromo.partnerships.schemas import Accept, Counter, ProposalCreate
from tests.conftest import make_owner
from tests.partnerships.test_proposals import OPTION

ROUNDS = 6


def _act(url: str, kind: str, user_id: str, proposal_id: str, barrier: Any, out: Any) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        actor = accounts.actor_for_user(db, uuid.UUID(user_id))
        barrier.wait()
        try:
            if kind == "counter":
                service.counter(
                    db, actor, uuid.UUID(proposal_id), Counter(based_on=1, options=[OPTION])
                )  # type: ignore[list-item]
            else:
                service.accept(db, actor, uuid.UUID(proposal_id), Accept(version=1))
            db.commit()
            out.put((kind, "ok"))
        except Conflict as exc:
            db.rollback()
            out.put((kind, exc.kind))
        except Exception as exc:  # anything else is a failure of the test
            out.put((kind, f"error: {type(exc).__name__}: {exc}"))
    engine.dispose()


@pytest.mark.slow
def test_concurrent_accept_and_counter(db: Session, database_url: str) -> None:
    bakery_owner, bakery = make_owner(db, "a@example.com", "Bakery")
    cafe_owner, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    # a second owner of the cafe, so two cafe owners act at once
    second = accounts.create_user(db, email="c@example.com", password="correct horse battery")
    accounts.grant(db, user=second, workspace_id=cafe.workspace_id, role=accounts.Role.owner)
    db.commit()
    ctx = mp.get_context("spawn")
    for _ in range(ROUNDS):
        actor = accounts.actor_for_user(db, bakery_owner.id)
        proposal = service.propose(
            db,
            actor,
            from_business_id=bakery.id,
            data=ProposalCreate(to_business=cafe.slug, options=[OPTION]),
        )  # type: ignore[list-item]
        db.commit()
        barrier, out = ctx.Barrier(3), ctx.Queue()
        jobs = [
            ctx.Process(
                target=_act, args=(database_url, kind, str(user), str(proposal.id), barrier, out)
            )
            for kind, user in (
                ("accept", bakery_owner.id),
                ("accept", cafe_owner.id),
                ("counter", second.id),
            )
        ]
        for job in jobs:
            job.start()
        results = [out.get(timeout=60) for _ in jobs]
        for job in jobs:
            job.join(timeout=60)
        assert not [r for r in results if r[1].startswith("error")], results
        db.expire_all()
        fresh = db.get(Proposal, proposal.id)
        assert fresh is not None
        versions = db.scalar(
            select(func.count())
            .select_from(TermsVersion)
            .where(TermsVersion.proposal_id == proposal.id)
        )
        accepted_v1 = db.scalar(
            select(func.count())
            .select_from(Acceptance)
            .where(Acceptance.proposal_id == proposal.id, Acceptance.version == 1)
        )
        counter_ok = ("counter", "ok") in results
        if fresh.status is Status.agreed:
            # the acceptance won; a counter that came after it is an amendment to agree anew
            assert accepted_v1 == 2 and fresh.agreed_version == 1
            assert versions == (2 if counter_ok else 1) == fresh.current_version
        else:
            assert counter_ok and versions == 2 and fresh.current_version == 2
            assert accepted_v1 <= 1  # accepted before the counter, never agreed on a stale version
    assert db.scalar(select(func.count()).select_from(Business)) == 2
