"""Shared audiences on the platform: exact counts in SQL, shown only as suppressed, rounded numbers.

A customer of one business matches a customer of another when their keyed e-mail hash or their
keyed phone hash is equal. Counts never leave this module as lists of people; what an owner sees
goes through `visible_overlap`, which needs both businesses' consent, suppresses small counts
and rounds the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.errors import Invalid

NOT_ALLOWED = "not allowed by both"
TOO_FEW = "fewer than k"
ROUNDED = "rounded"


@dataclass(frozen=True)
class Overlap:
    """What an owner may see of the audience shared with another business."""

    shown: int | None  # rounded count; None when suppressed
    suppressed: bool
    k: int
    rounding: int
    reason: str


def exact_shared(session: Session, *, a: uuid.UUID, b: uuid.UUID) -> int:
    """Customers of `a` who are also customers of `b` (same e-mail or phone hash); exact."""
    other = aliased(Customer)
    by_email = exists().where(
        other.business_id == b,
        other.email_hash == Customer.email_hash,
    )
    by_phone = exists().where(
        other.business_id == b,
        other.phone_hash == Customer.phone_hash,
    )
    # NULL = NULL is never true, so a customer without an e-mail cannot match on e-mail.
    query = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.business_id == a, or_(by_email, by_phone))
    )
    return int(session.scalar(query) or 0)


def rounded(count: int, *, k: int, rounding: int) -> int:
    """`count` (>= k) to the nearest multiple of `rounding`, never below the first one >= k."""
    nearest = (count + rounding // 2) // rounding * rounding
    # Rounding 7 down to 5 with k = 7 would tell the viewer the count is exactly 7.
    floor = -(-k // rounding) * rounding
    return max(nearest, floor)


def visible_overlap(
    session: Session, *, a: Business, b: Business, k: int = 10, rounding: int = 5
) -> Overlap:
    """The shared-audience count `a`'s owner may see: both must allow it, small counts hidden."""
    if k < 1:
        raise Invalid("k must be at least 1.", field="k")
    if rounding < 1:
        raise Invalid("rounding must be at least 1.", field="rounding")
    if a.id == b.id:
        raise Invalid("Choose another business to compare with.", field="b")
    if not (a.allow_overlap_discovery and b.allow_overlap_discovery):
        return Overlap(None, True, k, rounding, NOT_ALLOWED)
    count = exact_shared(session, a=a.id, b=b.id)
    if count < k:
        return Overlap(None, True, k, rounding, TOO_FEW)
    return Overlap(rounded(count, k=k, rounding=rounding), False, k, rounding, ROUNDED)


def shared_pairs(
    session: Session, *, business_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Exact shared customers of every ordered pair (a, b) of the businesses; zeros left out."""
    ids = list(dict.fromkeys(business_ids))
    if len(ids) < 2:
        return {}
    # One row per (customer, identifier): a person is matched by e-mail or by phone, and the
    # kind is part of the key so an e-mail hash is only ever compared with e-mail hashes.
    keys = union_all(
        select(
            Customer.id.label("customer_id"),
            Customer.business_id.label("business_id"),
            literal("e").label("kind"),
            Customer.email_hash.label("hash"),
        ).where(Customer.business_id.in_(ids), Customer.email_hash.is_not(None)),
        select(
            Customer.id.label("customer_id"),
            Customer.business_id.label("business_id"),
            literal("p").label("kind"),
            Customer.phone_hash.label("hash"),
        ).where(Customer.business_id.in_(ids), Customer.phone_hash.is_not(None)),
    ).cte("person_keys")
    mine, theirs = keys.alias("mine"), keys.alias("theirs")
    query = (
        select(
            mine.c.business_id,
            theirs.c.business_id,
            # A customer matched by both e-mail and phone, or by several customers of the
            # other business, still counts once.
            func.count(func.distinct(mine.c.customer_id)),
        )
        .select_from(mine)
        .join(
            theirs,
            and_(
                theirs.c.hash == mine.c.hash,
                theirs.c.kind == mine.c.kind,
                theirs.c.business_id != mine.c.business_id,
            ),
        )
        .group_by(mine.c.business_id, theirs.c.business_id)
    )
    return {(row[0], row[1]): int(row[2]) for row in session.execute(query)}
