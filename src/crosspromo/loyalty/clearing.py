"""Clearing between members, their positions, and the check of every ledger invariant.

All figures come from SQL aggregates over the append-only entries, so a statement for a month
reads the entries of that month once, whatever their number.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.loyalty.models import (
    POINTS,
    Account,
    AccountKind,
    Card,
    Coalition,
    Debt,
    Entry,
    Lot,
    LotMove,
    Member,
    Transaction,
    TxnKind,
)


@dataclass
class Line:
    business_id: uuid.UUID
    slug: str
    name: str
    issued_minor: int = 0  # its points spent at other members: it owes
    accepted_minor: int = 0  # other members' points spent here: it is owed
    net_minor: int = 0  # accepted - issued: positive receives, negative pays


@dataclass
class Statement:
    coalition_id: uuid.UUID
    currency: str
    start: datetime
    end: datetime
    lines: list[Line]
    pairs: list[tuple[uuid.UUID, uuid.UUID, int]]  # debtor, creditor, gross amount
    transfers: list[tuple[uuid.UUID, uuid.UUID, int]]  # after multilateral netting
    timezone: str = "UTC"  # the zone of the statement's days

    @property
    def first_day(self) -> date:
        return clock.local_date(self.start, self.timezone)

    @property
    def last_day(self) -> date:
        """The local day of the last instant before `end` (`end` is excluded)."""
        return clock.local_date(self.end - timedelta(microseconds=1), self.timezone)

    def as_dict(self) -> dict[str, object]:
        names = {line.business_id: line.slug for line in self.lines}
        return {
            "coalition_id": str(self.coalition_id),
            "currency": self.currency,
            "timezone": self.timezone,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "members": [
                {
                    "business_id": str(line.business_id),
                    "slug": line.slug,
                    "name": line.name,
                    "issued_minor": line.issued_minor,
                    "accepted_minor": line.accepted_minor,
                    "net_minor": line.net_minor,
                }
                for line in self.lines
            ],
            "gross": [
                {"from": names.get(d, str(d)), "to": names.get(c, str(c)), "amount_minor": a}
                for d, c, a in self.pairs
            ],
            "transfers": [
                {"from": names.get(d, str(d)), "to": names.get(c, str(c)), "amount_minor": a}
                for d, c, a in self.transfers
            ],
            "nets_sum_minor": sum(line.net_minor for line in self.lines),
        }


def _member_lines(session: Session, coalition_id: uuid.UUID) -> dict[uuid.UUID | None, Line]:
    rows = session.execute(
        select(Business.id, Business.slug, Business.name)
        .join(Member, Member.business_id == Business.id)
        .where(Member.coalition_id == coalition_id)
        .order_by(Business.slug)
    ).all()
    return {bid: Line(bid, slug, name) for bid, slug, name in rows}


def net(lines: list[Line]) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """Multilateral netting: each member pays or receives one amount; fewest greedy transfers."""
    payers = sorted(((-x.net_minor, x.business_id) for x in lines if x.net_minor < 0), reverse=True)
    takers = sorted(((x.net_minor, x.business_id) for x in lines if x.net_minor > 0), reverse=True)
    transfers = []
    i = j = 0
    owe = [amount for amount, _ in payers]
    due = [amount for amount, _ in takers]
    while i < len(payers) and j < len(takers):
        amount = min(owe[i], due[j])
        transfers.append((payers[i][1], takers[j][1], amount))
        owe[i] -= amount
        due[j] -= amount
        if owe[i] == 0:
            i += 1
        if due[j] == 0:
            j += 1
    return transfers


def days(coalition: Coalition, first: date, last: date) -> tuple[datetime, datetime]:
    """Local days `first`..`last` (both included) of the coalition's zone as UTC [start, end).

    The edges are local midnights (`clock.span`), so a day around a DST change is 23 or 25
    hours long and a receipt at 23:30 local time stays on its local day.
    """
    period = clock.span(first, last, coalition.timezone)
    return period.since, period.until


def statement(session: Session, coalition: Coalition, start: datetime, end: datetime) -> Statement:
    """Per member for [start, end): issued (owes), accepted (owed), net; who owes whom."""
    lines = _member_lines(session, coalition.id)
    rows = session.execute(
        select(Account.business_id, Account.counterparty_id, Account.kind, func.sum(Entry.amount))
        .join(Entry, Entry.account_id == Account.id)
        .where(
            Account.coalition_id == coalition.id,
            Account.kind.in_([AccountKind.payable, AccountKind.receivable]),
            Entry.at >= clock.instant(start),
            Entry.at < clock.instant(end),
        )
        .group_by(Account.business_id, Account.counterparty_id, Account.kind)
    ).all()
    pairs: dict[tuple[uuid.UUID | None, uuid.UUID | None], int] = defaultdict(int)
    for business_id, counterparty_id, kind, amount in rows:
        line = lines.get(business_id)
        if line is None:
            continue
        if kind == AccountKind.payable:
            line.issued_minor += -int(amount)
            pairs[(business_id, counterparty_id)] += -int(amount)
        else:
            line.accepted_minor += int(amount)
    for line in lines.values():
        line.net_minor = line.accepted_minor - line.issued_minor
    ordered = list(lines.values())
    return Statement(
        coalition.id,
        coalition.currency,
        start,
        end,
        ordered,
        sorted(((d, c, a) for (d, c), a in pairs.items() if a and d and c), key=lambda p: -p[2]),
        net(ordered),
        coalition.timezone,
    )


@dataclass
class Position:
    business_id: uuid.UUID
    slug: str
    liability_points: int
    liability_minor: int
    reserve_minor: int
    coverage: float | None  # reserve / liability; None without liability
    breakage_rate: float  # share of this member's settled points that expired
    expected_breakage_points: int


def positions(session: Session, coalition: Coalition) -> list[Position]:
    """Each member's outstanding liability, reserve coverage and expected breakage."""
    issued: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(Account.business_id, Account.balance).where(
                Account.coalition_id == coalition.id, Account.kind == AccountKind.issued
            )
        ).all()
    )
    # Points that left each issuer's lots, by how: expired or spent (moves of those kinds).
    settled = session.execute(
        select(
            Lot.issuer_business_id,
            func.sum(case((Transaction.kind == TxnKind.expiry, -LotMove.points), else_=0)),
            func.sum(
                case(
                    (Transaction.kind.in_([TxnKind.spend, TxnKind.recovery]), -LotMove.points),
                    (Transaction.kind == TxnKind.spend_reversal, -LotMove.points),
                    else_=0,
                )
            ),
        )
        .join(LotMove, LotMove.lot_id == Lot.id)
        .join(Transaction, Transaction.id == LotMove.transaction_id)
        .where(Lot.coalition_id == coalition.id)
        .group_by(Lot.issuer_business_id)
    ).all()
    rates = {}
    for issuer, expired, spent in settled:
        expired, spent = int(expired or 0), int(spent or 0)
        rates[issuer] = expired / (expired + spent) if expired + spent > 0 else 0.0
    result = []
    for member, slug in session.execute(
        select(Member, Business.slug)
        .join(Business, Business.id == Member.business_id)
        .where(Member.coalition_id == coalition.id)
        .order_by(Business.slug)
    ).all():
        points = -int(issued.get(member.business_id, 0))
        liability = points * coalition.point_value_minor
        rate = rates.get(member.business_id, 0.0)
        result.append(
            Position(
                member.business_id,
                slug,
                points,
                liability,
                member.reserve_minor,
                member.reserve_minor / liability if liability else None,
                rate,
                round(points * rate),
            )
        )
    return result


@dataclass
class Report:
    breaches: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaches


def check(session: Session, coalition: Coalition) -> Report:
    """Verify every invariant of the coalition's ledger; each breach is named."""
    report = Report()
    cid = coalition.id
    bad = report.breaches

    # 1. Every transaction's entries sum to zero per unit.
    for txn_id, unit, total in session.execute(
        select(Entry.transaction_id, Entry.unit, func.sum(Entry.amount))
        .join(Transaction, Transaction.id == Entry.transaction_id)
        .where(Transaction.coalition_id == cid)
        .group_by(Entry.transaction_id, Entry.unit)
        .having(func.sum(Entry.amount) != 0)
    ):
        bad.append(f"transaction {txn_id} sums to {total} {unit}")

    # 2. Every account's balance equals the sum of its entries; unit matches.
    for _account_id, key, balance, total in session.execute(
        select(Account.id, Account.key, Account.balance, func.coalesce(func.sum(Entry.amount), 0))
        .outerjoin(Entry, Entry.account_id == Account.id)
        .where(Account.coalition_id == cid)
        .group_by(Account.id, Account.key, Account.balance)
    ):
        if int(balance) != int(total):
            bad.append(f"account {key} balance {balance} != entries {total}")
    for (entry_id,) in session.execute(
        select(Entry.id)
        .join(Account, Account.id == Entry.account_id)
        .where(Account.coalition_id == cid, Entry.unit != Account.unit)
        .limit(10)
    ):
        bad.append(f"entry {entry_id} in another unit than its account")

    # 3. Each lot's remainder is the sum of its moves, within 0..points.
    moved = (
        select(LotMove.lot_id, func.sum(LotMove.points).label("total"))
        .group_by(LotMove.lot_id)
        .subquery()
    )
    for lot_id, remaining, points, total in session.execute(
        select(Lot.id, Lot.remaining, Lot.points, func.coalesce(moved.c.total, 0))
        .outerjoin(moved, moved.c.lot_id == Lot.id)
        .where(Lot.coalition_id == cid)
    ):
        if int(remaining) != int(total) or not 0 <= remaining <= points:
            bad.append(f"lot {lot_id} remaining {remaining} != moves {total} (of {points})")

    # 4. A customer's balance is the sum of its live lots and never negative.
    lots_by_card: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(Lot.card_id, func.sum(Lot.remaining))
            .where(Lot.coalition_id == cid)
            .group_by(Lot.card_id)
        ).all()
    )
    for card_id, balance in session.execute(
        select(Account.card_id, Account.balance).where(
            Account.coalition_id == cid, Account.kind == AccountKind.customer
        )
    ):
        if balance < 0 or int(balance) != int(lots_by_card.get(card_id, 0) or 0):
            bad.append(f"card {card_id} balance {balance} != lots {lots_by_card.get(card_id)}")

    # 5. Each member's issued account is minus its outstanding lots (its liability).
    lots_by_issuer: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(Lot.issuer_business_id, func.sum(Lot.remaining))
            .where(Lot.coalition_id == cid)
            .group_by(Lot.issuer_business_id)
        ).all()
    )
    issued: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(Account.business_id, Account.balance).where(
                Account.coalition_id == cid, Account.kind == AccountKind.issued
            )
        ).all()
    )
    for business_id in set(issued) | set(lots_by_issuer):
        if -int(issued.get(business_id, 0)) != int(lots_by_issuer.get(business_id, 0) or 0):
            bad.append(f"member {business_id} liability != its outstanding lots")

    # 6. Debts: the card's debt account and the members' claims match the open debts.
    debts_by_card: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(Debt.card_id, func.sum(Debt.remaining))
            .join(Card, Card.id == Debt.card_id)
            .where(Card.coalition_id == cid)
            .group_by(Debt.card_id)
        ).all()
    )
    for card_id, balance in session.execute(
        select(Account.card_id, Account.balance).where(
            Account.coalition_id == cid, Account.kind == AccountKind.debt
        )
    ):
        if -int(balance) != int(debts_by_card.get(card_id, 0) or 0):
            bad.append(f"card {card_id} debt {balance} != open debts")
    claims = session.scalar(
        select(func.coalesce(func.sum(Account.balance), 0)).where(
            Account.coalition_id == cid, Account.kind.in_([AccountKind.claim, AccountKind.debt])
        )
    )
    if int(claims or 0) != 0:
        bad.append(f"claims and debts differ by {claims}")

    # 7. Every spent point traces to exactly one issuing lot.
    spends = session.execute(
        select(Transaction.id, Transaction.kind, Transaction.points, func.sum(LotMove.points))
        .outerjoin(LotMove, LotMove.transaction_id == Transaction.id)
        .where(
            Transaction.coalition_id == cid,
            Transaction.kind.in_([TxnKind.spend, TxnKind.recovery, TxnKind.spend_reversal]),
        )
        .group_by(Transaction.id, Transaction.kind, Transaction.points)
    ).all()
    for txn_id, kind, points, total in spends:
        sign = 1 if kind == TxnKind.spend_reversal else -1
        if sign * int(total or 0) != int(points):
            bad.append(f"{kind} {txn_id} of {points} points traces to {total} in lots")

    # 8. Settlement: every payable has its receivable; the nets sum to zero.
    pair_totals = session.execute(
        select(Account.kind, Account.business_id, Account.counterparty_id, Account.balance).where(
            Account.coalition_id == cid,
            Account.kind.in_([AccountKind.payable, AccountKind.receivable]),
        )
    ).all()
    payable = {(b, c): int(x) for k, b, c, x in pair_totals if k == AccountKind.payable}
    receivable = {(c, b): int(x) for k, b, c, x in pair_totals if k == AccountKind.receivable}
    for pair in set(payable) | set(receivable):
        if payable.get(pair, 0) != -receivable.get(pair, 0):
            bad.append(f"settlement {pair} payable != receivable")
    nets = sum(int(x) for _, _, _, x in pair_totals)
    if nets != 0:
        bad.append(f"clearing nets sum to {nets}")

    # 9. Total liability equals the customers' points (times the point value).
    customers = session.scalar(
        select(func.coalesce(func.sum(Account.balance), 0)).where(
            Account.coalition_id == cid, Account.kind == AccountKind.customer
        )
    )
    liability = -sum(int(x) for x in issued.values())
    if int(customers or 0) != liability:
        bad.append(f"liability {liability} points != customer balances {customers}")

    report.checked = {
        "transactions": int(
            session.scalar(select(func.count()).where(Transaction.coalition_id == cid)) or 0
        ),
        "liability_points": liability,
        "liability_minor": liability * coalition.point_value_minor,
        "customer_points": int(customers or 0),
    }
    return report


__all__ = ["POINTS", "Line", "Position", "Report", "Statement", "check", "positions", "statement"]


def weekly(
    session: Session, coalition: Coalition, since: datetime, until: datetime | None = None
) -> list[tuple[str, dict[str, int]]]:
    """Points issued, spent and expired per ISO week since `since`, oldest first, every week.

    Weeks of local days in the coalition's zone (`clock.periods`), like its clearing days.
    """
    until = until or utcnow()
    first, last = (clock.local_date(t, coalition.timezone) for t in (since, until))
    if last < first:
        return []
    found = clock.periods(first, last, "week", coalition.timezone)
    edges, owner = clock.edges_of(found)
    base = (
        select(
            clock.bucket(Transaction.at, edges).label("b"),
            Transaction.kind.label("kind"),
            Transaction.points.label("points"),
        )
        .where(
            Transaction.coalition_id == coalition.id,
            Transaction.at >= clock.instant(edges[0]),
            Transaction.at < clock.instant(edges[-1]),
        )
        .subquery()
    )
    rows = session.execute(
        select(base.c.b, base.c.kind, func.sum(base.c.points)).group_by(base.c.b, base.c.kind)
    ).all()
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for interval, kind, points in rows:
        index = owner[int(interval)]
        if index is None:
            continue
        year, week, _ = found[index].start.isocalendar()
        label = f"{year}-W{week:02d}"
        sign = {
            TxnKind.earn: ("issued", 1),
            TxnKind.refund: ("issued", -1),
            TxnKind.spend: ("spent", 1),
            TxnKind.recovery: ("spent", 1),
            TxnKind.spend_reversal: ("spent", -1),
            TxnKind.expiry: ("expired", 1),
        }[TxnKind(kind)]
        weeks[label][sign[0]] += sign[1] * int(points or 0)
    # Every week of the range, quiet ones too: a missing row reads as a gap in the data.
    labels = ["{}-W{:02d}".format(*p.start.isocalendar()[:2]) for p in found]
    return [(label, dict(weeks.get(label, {}))) for label in labels]
