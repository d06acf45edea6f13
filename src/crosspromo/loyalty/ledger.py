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

from sqlalchemy import event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

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


def lock_card(session: Session, card_id: uuid.UUID) -> None:
    """Serialise operations on one card: a row lock on PostgreSQL, the write lock on SQLite."""
    session.execute(
        update(Card)
        .where(Card.id == card_id)
        .values(ops=Card.ops + 1)
        .execution_options(synchronize_session=False)
    )


def post(session: Session, txn: Transaction, postings: Iterable[Posting], at: datetime) -> None:
    """Write the transaction's entries (zero sum per unit) and move the account balances."""
    merged: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for account_id, unit, amount in postings:
        merged[(account_id, unit)] += amount
    totals: dict[str, int] = defaultdict(int)
    for (_, unit), amount in merged.items():
        totals[unit] += amount
    unbalanced = {unit: total for unit, total in totals.items() if total}
    if unbalanced:
        raise AssertionError(f"unbalanced transaction {txn.kind}: {unbalanced}")
    rows = [
        {
            "id": uuid.uuid4(),
            "transaction_id": txn.id,
            "account_id": account_id,
            "unit": unit,
            "amount": amount,
            "at": at,
        }
        for (account_id, unit), amount in sorted(merged.items(), key=lambda kv: kv[0][0])
        if amount
    ]
    if rows:
        session.execute(insert(Entry), rows)
    for row in rows:
        session.execute(
            update(Account)
            .where(Account.id == row["account_id"])
            .values(balance=Account.balance + row["amount"])
            .execution_options(synchronize_session=False)
        )


def move_lot(
    session: Session,
    lot: Lot,
    txn: Transaction,
    points: int,
    *,
    accepted_by: uuid.UUID | None = None,
) -> None:
    """Change the lot's remainder by `points` (negative takes), conditionally, and record it."""
    if points == 0:
        return
    condition = Lot.remaining >= -points if points < 0 else Lot.remaining + points <= Lot.points
    result = session.execute(
        update(Lot)
        .where(Lot.id == lot.id, condition)
        .values(remaining=Lot.remaining + points)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The points changed meanwhile; try again.", kind="loyalty-retry")
    set_committed_value(lot, "remaining", lot.remaining + points)
    session.add(
        LotMove(lot_id=lot.id, transaction_id=txn.id, points=points, accepted_by=accepted_by)
    )
