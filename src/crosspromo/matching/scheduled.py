"""Relearning in `crosspromo worker`: after each import (new receipts), and over everyone daily.

New receipts have larger ids than the mark the last run left, so an import is noticed by one
indexed look-up per tick, and only the businesses that received them are relearned (with
every pair they are in); the category relations are then summed again from the stored pairs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.matching import aggregates, feedback, learned, reach, service
from crosspromo.matching.models import LearningState
from crosspromo.sales.models import Transaction
from crosspromo.settings import get_settings

log = logging.getLogger("crosspromo.worker")


def _state(session: Session) -> LearningState | None:
    """The state row, locked so that two workers never learn at once (None: another is)."""
    query = select(LearningState).where(LearningState.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)  # the migration made the row: None means another has it


def affected(session: Session, since: int) -> list[uuid.UUID]:
    """Businesses with receipts newer than the mark."""
    query = select(Transaction.business_id).where(Transaction.id > since).distinct()
    return list(session.scalars(query))


def learn_all(
    session: Session,
    *,
    only: list[uuid.UUID] | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Learn relations (all, or around `only`), then refit what results teach."""
    say = progress or (lambda _step: None)
    pairs = learned.learn(session, only=only, progress=say)
    say("fitting how sharing falls with distance and price")
    model = reach.fit(session)
    state = session.get(LearningState, 1)
    if state is not None:
        # Stored first: the refit below scores pairs with it.
        state.feedback = {**(state.feedback or {}), "reach": model}
        session.flush()
        aggregates.forget()
    say("refitting from results")
    taught = feedback.learn(session, defaults=service.weights(), criteria=service.pair_criteria())
    if state is not None:
        state.feedback = {**taught, "reach": model}
        session.flush()
        aggregates.forget()
    return pairs


def relearn(session: Session) -> int:
    """One tick: relearn after new receipts, or everyone when the schedule says so."""
    state = _state(session)
    if state is None:
        return 0
    every = timedelta(hours=get_settings().match_relearn_hours)
    due = state.full_at is None or utcnow() - state.full_at >= every
    if due:
        if state.full_at is None and not session.scalar(select(Transaction.id).limit(1)):
            return 0  # nothing sold yet: nothing to learn (an empty install stays quiet)
        log.info("partners: relearning from everyone")
        pairs = learn_all(session, progress=lambda step: log.info("partners: %s", step))
        log.info("partners: learned %d business pairs", pairs)
        return pairs
    changed = affected(session, state.last_transaction)
    if not changed:
        return 0
    log.info("partners: relearning %d businesses with new receipts", len(changed))
    pairs = learn_all(session, only=changed, progress=lambda step: log.info("partners: %s", step))
    log.info("partners: updated %d business pairs", pairs)
    return pairs
