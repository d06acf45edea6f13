"""The audit log of till attempts, written in its own transaction so refusals are kept too."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.offers.models import Attempt


def record(
    session: Session,
    *,
    action: str,
    code: str,
    outcome: str,
    caller: str,
    address: str,
    business_id: uuid.UUID | None,
    redemption_id: uuid.UUID | None = None,
) -> None:
    """Add one attempt and commit it (the caller's own transaction is already settled)."""
    session.add(
        Attempt(
            business_id=business_id,
            action=action,
            code=code[:64],
            outcome=outcome[:40],
            caller=caller[:80],
            client_address=address[:64],
            redemption_id=redemption_id,
        )
    )
    session.commit()


def recent(session: Session, business_id: uuid.UUID, *, limit: int = 100) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.business_id == business_id)
            .order_by(Attempt.at.desc())
            .limit(limit)
        )
    )
