"""The ledger's primitives: accounts, posting a balanced transaction, moving points of a lot.

Everything here runs inside the caller's unit of work, after the caller locked the card
(`lock_card`), so per card the operations are serial. Account balances are updated in one
order (by account id) so two transactions touching the same member accounts never deadlock.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from crosspromo.errors import Conflict
from crosspromo.loyalty.models import (
    POINTS,
    Account,
    AccountKind,
    Card,
    Entry,
    Lot,
    LotMove,
    Transaction,
)

T = TypeVar("T")
Posting = tuple[uuid.UUID, str, int]  # account id, unit, signed amount
KNOWN: dict[str, uuid.UUID] = {}  # account key -> id, committed accounts only
KNOWN_MAX = 200_000


@event.listens_for(Session, "after_soft_rollback")
def _forget_accounts(session: Session, _previous: object) -> None:
    # An account inserted by a rolled-back transaction no longer exists.
    session.info.pop("loyalty_accounts", None)


def account_key(
    kind: AccountKind,
    coalition_id: uuid.UUID,
    owner: uuid.UUID,
    other: uuid.UUID | None = None,
) -> str:
    key = f"{kind.value}:{coalition_id.hex}:{owner.hex}"
    return key + (f":{other.hex}" if other else "")


def account(
    session: Session,
    *,
    coalition_id: uuid.UUID,
    kind: AccountKind,
    unit: str,
    card_id: uuid.UUID | None = None,
    business_id: uuid.UUID | None = None,
    counterparty_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """The id of the account, created on first use (insert or nothing, keyed)."""
    owner = card_id or business_id
    assert owner is not None
    key = account_key(kind, coalition_id, owner, counterparty_id)
    # Accounts are never deleted. Ids this session inserted are remembered for the session
    # (forgotten on rollback); ids found by a look-up are committed rows and are remembered
    # for the process, so busy accounts are looked up once.
    cache: dict[str, uuid.UUID] = session.info.setdefault("loyalty_accounts", {})
    if key in cache:
        return cache[key]
    if key in KNOWN:
        return KNOWN[key]
    found = session.scalar(select(Account.id).where(Account.key == key))
    if found is not None:
        if len(KNOWN) >= KNOWN_MAX:
            KNOWN.clear()
        KNOWN[key] = found
        return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(Account)
        .values(
            id=uuid.uuid4(),
            key=key,
            coalition_id=coalition_id,
            kind=kind,
            unit=unit,
            card_id=card_id,
            business_id=business_id,
            counterparty_id=counterparty_id,
            balance=0,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    made = session.scalar(select(Account.id).where(Account.key == key))
    assert made is not None
    cache[key] = made
    return made


def customer(session: Session, card: Card) -> uuid.UUID:
    return account(
        session,
        coalition_id=card.coalition_id,
        kind=AccountKind.customer,
        unit=POINTS,
        card_id=card.id,
    )


def member_account(
    session: Session, coalition_id: uuid.UUID, kind: AccountKind, business_id: uuid.UUID
) -> uuid.UUID:
    return account(
        session, coalition_id=coalition_id, kind=kind, unit=POINTS, business_id=business_id
    )


def settlement(
    session: Session,
    coalition_id: uuid.UUID,
    currency: str,
    *,
    debtor: uuid.UUID,
    creditor: uuid.UUID,
    value_minor: int,
) -> list[Posting]:
    """The pair of entries by which `debtor` owes `creditor` `value_minor`."""
    payable = account(
        session,
        coalition_id=coalition_id,
        kind=AccountKind.payable,
        unit=currency,
        business_id=debtor,
        counterparty_id=creditor,
    )
    receivable = account(
        session,
        coalition_id=coalition_id,
        kind=AccountKind.receivable,
        unit=currency,
        business_id=creditor,
        counterparty_id=debtor,
    )
    return [(payable, currency, -value_minor), (receivable, currency, value_minor)]


_CARDS = cast(Table, Card.__table__)
_ACCOUNTS = cast(Table, Account.__table__)
_LOTS = cast(Table, Lot.__table__)
# Hot-path statements built once: building a statement costs more than running it on SQLite.
_LOCK = update(_CARDS).where(_CARDS.c.id == bindparam("card_id")).values(ops=_CARDS.c.ops + 1)
_MOVE_BALANCE = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account"))
    .values(balance=_ACCOUNTS.c.balance + bindparam("amount"))
)
_TAKE = (
    update(_LOTS)
    .where(_LOTS.c.id == bindparam("lot"), _LOTS.c.remaining >= bindparam("moved"))
    .values(remaining=_LOTS.c.remaining - bindparam("moved"))
)
_GIVE_BACK = (
    update(_LOTS)
    .where(_LOTS.c.id == bindparam("lot"), _LOTS.c.remaining + bindparam("moved") <= _LOTS.c.points)
    .values(remaining=_LOTS.c.remaining + bindparam("moved"))
)
_INSERT_ENTRIES = insert(cast(Table, Entry.__table__))
_INSERT_MOVES = insert(cast(Table, LotMove.__table__))
_INSERTS: dict[str, Any] = {}


def lock_card(session: Session, card_id: uuid.UUID) -> None:
    """Serialise operations on one card: a row lock on PostgreSQL, the write lock on SQLite."""
    session.connection().execute(_LOCK, {"card_id": card_id})


def write(session: Session, model: type[T], **values: Any) -> T:
    """Insert one row with a Core INSERT (no unit-of-work flush) and return it as persistent."""
    table = model.__table__  # type: ignore[attr-defined]
    statement = _INSERTS.get(table.name)
    if statement is None:
        statement = _INSERTS[table.name] = insert(table)
    session.connection().execute(statement, values)
    return attach(session, model, values)


def post(session: Session, txn_id: uuid.UUID, postings: Iterable[Posting], at: datetime) -> None:
    """Write the transaction's entries (zero sum per unit) and move the account balances."""
    merged: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for account_id, unit, amount in postings:
        merged[(account_id, unit)] += amount
    totals: dict[str, int] = defaultdict(int)
    for (_, unit), amount in merged.items():
        totals[unit] += amount
    unbalanced = {unit: total for unit, total in totals.items() if total}
    if unbalanced:
        raise AssertionError(f"unbalanced transaction {txn_id}: {unbalanced}")
    rows = [
        {
            "id": uuid.uuid4(),
            "transaction_id": txn_id,
            "account_id": account_id,
            "unit": unit,
            "amount": amount,
            "at": at,
        }
        for (account_id, unit), amount in sorted(merged.items(), key=lambda kv: kv[0][0])
        if amount
    ]
    if rows:
        conn = session.connection()
        conn.execute(_INSERT_ENTRIES, rows)
        # One executemany (one round trip in psycopg's pipeline), in account order.
        conn.execute(
            _MOVE_BALANCE, [{"account": r["account_id"], "amount": r["amount"]} for r in rows]
        )


def move_lot(
    session: Session,
    lot_id: uuid.UUID,
    txn_id: uuid.UUID,
    points: int,
    *,
    accepted_by: uuid.UUID | None = None,
) -> dict[str, Any] | None:
    """Change the lot's remainder by `points` (negative takes), conditionally; the move's row.

    The caller writes the returned rows with `add_moves`, all in one statement.
    """
    if points == 0:
        return None
    statement = _TAKE if points < 0 else _GIVE_BACK
    result = session.connection().execute(statement, {"lot": lot_id, "moved": abs(points)})
    if result.rowcount != 1:
        raise Conflict("The points changed meanwhile; try again.", kind="loyalty-retry")
    return {
        "id": uuid.uuid4(),
        "lot_id": lot_id,
        "transaction_id": txn_id,
        "points": points,
        "accepted_by": accepted_by,
    }


def add_moves(session: Session, moves: Iterable[dict[str, Any] | None]) -> None:
    """Record lot moves (the audit trail of each point) in one statement."""
    rows = [move for move in moves if move is not None]
    if rows:
        session.connection().execute(_INSERT_MOVES, rows)


def attach(session: Session, model: type[T], values: dict[str, Any]) -> T:
    """The object of a row just inserted by Core, persistent in the session without a flush."""
    obj = model(**values)
    make_transient_to_detached(obj)
    session.add(obj)  # persistent: later look-ups in this unit of work find it
    return obj


def write_once(session: Session, values: dict[str, Any]) -> bool:
    """Insert an earn or spend unless its receipt has one already (the unique key); inserted?"""
    name = session.get_bind().dialect.name
    statement = _ONCE.get(name)
    if statement is None:
        dialect = postgresql if name == "postgresql" else sqlite
        statement = _ONCE[name] = (
            dialect.insert(Transaction.__table__)
            .on_conflict_do_nothing(index_elements=["business_id", "kind", "order_ref"])
            # SQLAlchemy reports an INSERT's row count only when asked to.
            .execution_options(preserve_rowcount=True)
        )
    return bool(session.connection().execute(statement, values).rowcount == 1)


_ONCE: dict[str, Any] = {}
