"""The learning query counts what a plain DuckDB self-join counts, on both engines.

A small contradicting city (tests/matching/cities.py) plus the awkward cases: a person known
by phone only, two customer records of one person at one business, first purchases exactly
CLOSE_DAYS apart, a customer with no identifier, a receipt with no customer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.matching import learned
from crosspromo.sales.models import Transaction
from tests.matching import cities


def _awkward(db: Session) -> None:
    """People the city does not have, at its first three businesses."""
    a, b, c = db.scalars(select(Business.id).order_by(Business.slug).limit(3))
    start = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    records = [
        # (business, email hash, phone hash, purchase days)
        (a, None, "f" * 64, [0, 40]),  # phone only, at a and b
        (b, None, "f" * 64, [14]),  # first purchases exactly 14 days apart: close
        (a, "e" * 64, None, [3]),  # one person, two records at a
        (a, "e" * 64, None, [1, 2]),
        (c, "e" * 64, None, [15]),  # 14 days after a's first purchase (day 1): close
        (b, None, None, [5]),  # no identifier: nobody
    ]
    for k, (business, email, phone, days) in enumerate(records):
        customer = Customer(
            business_id=business,
            external_id=f"awkward-{k}",
            email_hash=email,
            phone_hash=phone,
            row_hash="",
        )
        db.add(customer)
        db.flush()
        for day in days:
            db.add(
                Transaction(
                    business_id=business,
                    external_id=f"awkward-{k}-{day}",
                    customer_id=customer.id,
                    at=start + timedelta(days=day),
                    amount_minor=100,
                    currency="RUB",
                    row_hash="",
                )
            )
    db.add(
        Transaction(
            business_id=a,
            external_id="awkward-anonymous",
            at=start,
            amount_minor=100,
            currency="RUB",
            row_hash="",
        )
    )
    db.flush()


def _duckdb(db: Session) -> set[tuple[str, str, int, int, int, int]]:
    truth = duckdb.connect()
    truth.execute("CREATE TABLE customers (id VARCHAR, business VARCHAR, person VARCHAR)")
    truth.execute('CREATE TABLE transactions (customer_id VARCHAR, "at" TIMESTAMP)')
    people = db.execute(
        select(Customer.id, Customer.business_id, Customer.email_hash, Customer.phone_hash)
    )
    truth.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)",
        [(i.hex, b.hex, e or p) for i, b, e, p in people if e or p],
    )
    receipts = db.execute(select(Transaction.customer_id, Transaction.at))
    truth.executemany(
        "INSERT INTO transactions VALUES (?, ?)",
        [(c.hex, at.astimezone(UTC).replace(tzinfo=None)) for c, at in receipts if c],
    )
    rows = truth.execute(learned.REFERENCE, {"days": learned.CLOSE_DAYS}).fetchall()
    return {(a, b, int(n), int(f), int(s), int(c)) for a, b, n, f, s, c in rows}


def _ours(pairs: list[tuple[uuid.UUID, uuid.UUID, int, int, int, int]]) -> set[tuple[Any, ...]]:
    return {(a.hex, b.hex, n, f, s, c) for a, b, n, f, s, c in pairs}


def test_counts_equal_duckdb(db: Session) -> None:
    cities.build(db, seed=3, scale=0.3)
    _awkward(db)
    expected = _duckdb(db)
    assert len(expected) > 50
    assert _ours(learned.pair_counts(db)) == expected
    # an incremental run: exactly the pairs touching the businesses named
    some = list(db.scalars(select(Business.id).order_by(Business.slug).limit(2)))
    touching = {row for row in expected if {row[0], row[1]} & {i.hex for i in some}}
    assert touching
    assert _ours(learned.pair_counts(db, only=some)) == touching
    # the awkward people, by hand: phone-only at a and b (close), the two-record person at
    # a and c (close: first purchases on days 1 and 15)
    a, b, c = (i.hex for i in db.scalars(select(Business.id).order_by(Business.slug).limit(3)))
    assert learned.pair_counts(db) == learned.pair_counts(db)  # temporary tables cleaned up
    assert {(x, y) for x, y, *_ in expected} >= {(min(a, b), max(a, b)), (min(a, c), max(a, c))}
