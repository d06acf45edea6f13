"""The audit log of till attempts.

A success's row joins the transaction of its effect; a refusal's row is written by
`offers.flows` in its own short unit of work after the refused transaction rolled back.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.offers.models import Attempt


def add(
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
    """Add one attempt to the session's transaction; it commits or rolls back with it."""
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


def recent(session: Session, business_id: uuid.UUID, *, limit: int = 100) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.business_id == business_id)
            .order_by(Attempt.at.desc())
            .limit(limit)
        )
    )
