"""A business's customers: counts and a paged, searchable list."""

from __future__ import annotations

import uuid

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from crosspromo.customers.models import Customer
from crosspromo.db import folded


def count(session: Session, *, business_id: uuid.UUID) -> tuple[int, int]:
    """All customers and those who consented to marketing."""
    total, consented = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Customer.marketing_consent.is_(True), 1), else_=0)), 0),
        ).where(Customer.business_id == business_id)
    ).one()
    return int(total), int(consented)


def page(
    session: Session,
    *,
    business_id: uuid.UUID,
    query: str = "",
    after: str | None = None,
    limit: int = 50,
) -> list[Customer]:
    """Customers ordered by their own id, paged by a cursor (the last id seen)."""
    stmt = select(Customer).where(Customer.business_id == business_id)
    if query:
        like = f"%{query.strip().casefold()}%"
        stmt = stmt.where(
            or_(
                folded(session, Customer.name).like(like),
                folded(session, Customer.email).like(like),
                Customer.phone.like(like),
                Customer.external_id.like(like),
            )
        )
    if after:
        stmt = stmt.where(Customer.external_id > after)
    return list(session.scalars(stmt.order_by(Customer.external_id).limit(limit)))


def identifiers(session: Session, *, business_id: uuid.UUID) -> list[str]:
    """One normalised key per customer (e-mail, else phone), for private set intersection only.

    Both sides use the same rule, so a person counts once; a person known by e-mail on one
    side and only by phone on the other is missed (an undercount, never an overcount).
    """
    found: list[str] = []
    query = (
        select(Customer.email, Customer.phone)
        .where(Customer.business_id == business_id)
        .execution_options(yield_per=10_000)
    )
    for email, phone in session.execute(query):
        if email:
            found.append(f"email:{email}")
        elif phone:
            found.append(f"phone:{phone}")
    return found


def known(session: Session, *, business_id: uuid.UUID, identifier_hash: str) -> bool:
    """Whether the business already has a customer with this phone or e-mail hash."""
    found = session.scalar(
        select(Customer.id)
        .where(
            Customer.business_id == business_id,
            or_(Customer.email_hash == identifier_hash, Customer.phone_hash == identifier_hash),
        )
        .limit(1)
    )
    return found is not None


def hashes(
    session: Session, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str | None, str | None]]:
    """The keyed e-mail and phone hashes of these customers, by id."""
    found: dict[uuid.UUID, tuple[str | None, str | None]] = {}
    for start in range(0, len(ids), 1000):
        for customer_id, email_hash, phone_hash in session.execute(
            select(Customer.id, Customer.email_hash, Customer.phone_hash).where(
                Customer.id.in_(ids[start : start + 1000])
            )
        ):
            found[customer_id] = (email_hash, phone_hash)
    return found
