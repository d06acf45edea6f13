"""Random sequences of loyalty operations; every ledger invariant is checked after each step.

Bounded for `make test`; LOYALTY_STATEFUL_EXAMPLES and LOYALTY_STATEFUL_STEPS scale it up for
the long run (bench/loyalty.py --stateful runs 100,000+ operations).
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.errors import DomainError
from crosspromo.loyalty import clearing, service
from crosspromo.loyalty.models import (
    Account,
    AccountKind,
    Debt,
    Entry,
    Lot,
    LotMove,
    MemberStatus,
    Transaction,
    TxnKind,
)
from tests.conftest import make_owner
from tests.loyalty.conftest import T0

EXAMPLES = int(os.environ.get("LOYALTY_STATEFUL_EXAMPLES", "4"))
STEPS = int(os.environ.get("LOYALTY_STATEFUL_STEPS", "20"))
# The whole-ledger check (`clearing.check`) reads every row: every step in the bounded run,
# every FULL_EVERY steps in the long one. The incremental `Watch` runs after every step.
FULL_EVERY = int(os.environ.get("LOYALTY_STATEFUL_FULL_EVERY", "1"))
STEPS_RUN = [0]


class Watch:
    """The ledger invariants checked on what the last step wrote, with a few cheap queries.

    Running totals per account, lot, card and issuer are kept from the entries and lot moves
    of the new transactions and compared with the stored balances of the rows they touched.
    By induction (every row starts at zero and only new transactions move it) this checks
    what `clearing.check` checks over the whole ledger.
    """

    def __init__(self, coalition_id: uuid.UUID) -> None:
        self.coalition_id = coalition_id
        self.since = datetime.min.replace(tzinfo=UTC)
        self.seen: set[uuid.UUID] = set()
        self.accounts: dict[uuid.UUID, int] = defaultdict(int)
        self.lots: dict[uuid.UUID, int] = defaultdict(int)
        self.cards: dict[uuid.UUID, int] = defaultdict(int)
        self.issuers: dict[uuid.UUID, int] = defaultdict(int)

    def check(self, db: Session) -> None:
        new = [
            row
            for row in db.execute(
                select(Transaction.id, Transaction.kind, Transaction.points, Transaction.at).where(
                    Transaction.coalition_id == self.coalition_id, Transaction.at >= self.since
                )
            )
            if row.id not in self.seen
        ]
        if not new:
            return
        latest = max(row.at for row in new)
        if latest > self.since:
            self.since, self.seen = latest, set()
        self.seen |= {row.id for row in new if row.at == latest}
        ids = [row.id for row in new]
        # Every transaction's entries sum to zero per unit; balances follow the entries.
        sums: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
        touched: dict[uuid.UUID, str] = {}
        for txn_id, account_id, unit, amount in db.execute(
            select(Entry.transaction_id, Entry.account_id, Entry.unit, Entry.amount).where(
                Entry.transaction_id.in_(ids)
            )
        ):
            sums[(txn_id, unit)] += amount
            self.accounts[account_id] += amount
            touched[account_id] = unit
        assert not {key: total for key, total in sums.items() if total}, "unbalanced"
        moved: dict[uuid.UUID, int] = defaultdict(int)
        lots: set[uuid.UUID] = set()
        for lot_id, txn_id, points, card_id, issuer in db.execute(
            select(
                LotMove.lot_id,
                LotMove.transaction_id,
                LotMove.points,
                Lot.card_id,
                Lot.issuer_business_id,
            )
            .join(Lot, Lot.id == LotMove.lot_id)
            .where(LotMove.transaction_id.in_(ids))
        ):
            moved[txn_id] += points
            self.lots[lot_id] += points
            self.cards[card_id] += points
            self.issuers[issuer] += points
            lots.add(lot_id)
        # Every spent (or given back) point traces to lots, exactly.
        sign = {TxnKind.spend: -1, TxnKind.recovery: -1, TxnKind.spend_reversal: 1}
        for row in new:
            if row.kind in sign:
                assert sign[row.kind] * moved[row.id] == row.points, (row.kind, row.id)
        for lot_id, remaining, points in db.execute(
            select(Lot.id, Lot.remaining, Lot.points).where(Lot.id.in_(lots))
        ):
            assert remaining == self.lots[lot_id] and 0 <= remaining <= points, lot_id
        for account_id, kind, unit, balance, card_id, business_id in db.execute(
            select(
                Account.id,
                Account.kind,
                Account.unit,
                Account.balance,
                Account.card_id,
                Account.business_id,
            ).where(Account.id.in_(touched))
        ):
            assert balance == self.accounts[account_id], (kind, balance)
            assert unit == touched[account_id]  # entries in the unit of their account
            if kind == AccountKind.customer:
                # The card's balance is the sum of its live lots and never negative.
                assert 0 <= balance == self.cards[card_id], (balance, self.cards[card_id])
            if kind == AccountKind.issued:
                assert -balance == self.issuers[business_id]  # liability = outstanding lots
            if kind == AccountKind.debt:
                owed = db.scalar(
                    select(func.coalesce(func.sum(Debt.remaining), 0)).where(
                        Debt.card_id == card_id
                    )
                )
                assert -balance == owed
        # Nets sum to zero, claims match debts, liability equals the customers' points.
        totals = dict(
            db.execute(
                select(Account.kind, func.sum(Account.balance))
                .where(Account.coalition_id == self.coalition_id)
                .group_by(Account.kind)
            ).all()
        )
        get = lambda kind: int(totals.get(kind) or 0)  # noqa: E731
        assert get(AccountKind.payable) + get(AccountKind.receivable) == 0
        assert get(AccountKind.claim) + get(AccountKind.debt) == 0
        assert get(AccountKind.customer) == -get(AccountKind.issued)


def machine_for(db: Session) -> type[RuleBasedStateMachine]:
    class Ledger(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            tag = uuid.uuid4().hex[:8]
            self.businesses = [
                make_owner(db, f"{tag}-{i}@example.com", f"Shop {tag} {i}")[1] for i in range(4)
            ]
            self.coalition = service.create_coalition(
                db,
                founder=self.businesses[0],
                name=f"Street {tag}",
                pending_days=1,
                expiry_months=1,
                earn_milli=100,
                welcome_points=5,
                now=T0,
            )
            for business in self.businesses[1:3]:
                service.invite(
                    db, coalition=self.coalition, by=self.businesses[0], business_id=business.id
                )
                service.join(db, coalition=self.coalition, business=business, earn_milli=70, now=T0)
            self.cards = [
                service.enrol(
                    db,
                    coalition=self.coalition,
                    business=None,
                    consent=True,
                    email=f"{tag}{i}@e.com",
                )[0]
                for i in range(3)
            ]
            self.now = T0
            self.orders = 0
            # Every run starts with points on a card, however short hypothesis makes it.
            first = service.earn(
                db,
                business=self.businesses[0],
                card=self.cards[0],
                order_minor=300_000,
                order_ref="R0",
                now=T0,
            )
            self.earns: list[uuid.UUID] = [first.id]
            self.spends: list[uuid.UUID] = []
            self.reversals: list[uuid.UUID] = []
            db.commit()

        def _do(self, fn: Any) -> Any:
            try:
                result = fn()
            except DomainError:
                db.rollback()
                return None
            db.commit()
            return result

        def _ref(self) -> str:
            self.orders += 1
            return f"R{self.orders}"

        @rule(b=st.integers(0, 3), c=st.integers(0, 2), amount=st.integers(0, 500_000))
        def earn(self, b: int, c: int, amount: int) -> None:
            txn = self._do(
                lambda: service.earn(
                    db,
                    business=self.businesses[b],
                    card=self.cards[c],
                    order_minor=amount,
                    order_ref=self._ref(),
                    now=self.now,
                )
            )
            if txn is not None:
                self.earns.append(txn.id)

        @rule(
            b=st.integers(0, 3),
            c=st.integers(0, 2),
            points=st.one_of(st.none(), st.integers(1, 400)),
            order=st.integers(0, 2_000_000),
        )
        def spend(self, b: int, c: int, points: int | None, order: int) -> None:
            txn = self._do(
                lambda: service.spend(
                    db,
                    business=self.businesses[b],
                    card=self.cards[c],
                    order_minor=order,
                    order_ref=self._ref(),
                    points=points,
                    now=self.now,
                )
            )
            if txn is not None:
                self.spends.append(txn.id)

        def _reverse(self, txn_id: uuid.UUID, order_minor: int | None = None) -> None:
            original = db.get(Transaction, txn_id)
            assert original is not None and original.business_id is not None
            business = next(b for b in self.businesses if b.id == original.business_id)
            txn = self._do(
                lambda: service.reverse(
                    db,
                    business=business,
                    transaction_id=txn_id,
                    order_minor=order_minor,
                    now=self.now,
                )
            )
            if txn is not None:
                self.reversals.append(txn.id)

        @precondition(lambda self: self.earns)
        @rule(data=st.data(), part=st.one_of(st.none(), st.integers(0, 300_000)))
        def refund(self, data: st.DataObject, part: int | None) -> None:
            self._reverse(data.draw(st.sampled_from(self.earns)), part)

        @precondition(lambda self: self.spends)
        @rule(data=st.data())
        def reverse_spend(self, data: st.DataObject) -> None:
            self._reverse(data.draw(st.sampled_from(self.spends)))

        @precondition(lambda self: self.reversals)
        @rule(data=st.data())
        def reverse_a_reversal(self, data: st.DataObject) -> None:
            before = len(self.reversals)
            self._reverse(data.draw(st.sampled_from(self.reversals)))
            assert len(self.reversals) == before  # always refused

        @rule(days=st.integers(0, 40))
        def time_passes(self, days: int) -> None:
            self.now += timedelta(days=days, hours=1)

        @rule()
        def expire(self) -> None:
            self._do(lambda: service.expire(db, now=self.now))

        @rule(pending=st.integers(0, 3), months=st.integers(1, 3), value=st.integers(1, 200))
        def rule_change(self, pending: int, months: int, value: int) -> None:
            active = [
                b
                for b in self.businesses
                if (m := service.find_member(db, self.coalition.id, b.id)) is not None
                and m.status == MemberStatus.active
            ]
            rules = service.current_rules(db, self.coalition)
            rules.pending_days, rules.expiry_months, rules.point_value_minor = (
                pending,
                months,
                value,
            )
            version = service.propose_rules(db, coalition=self.coalition, by=active[0], rules=rules)
            for business in active[1:]:
                service.accept_rules(
                    db, coalition=self.coalition, business=business, version=version.version
                )
            db.commit()
            assert self.coalition.rules_version == version.version

        @rule(b=st.integers(1, 3))
        def join(self, b: int) -> None:
            business = self.businesses[b]
            self._do(
                lambda: service.invite(
                    db, coalition=self.coalition, by=self.businesses[0], business_id=business.id
                )
            )
            self._do(lambda: service.join(db, coalition=self.coalition, business=business))

        @rule(b=st.integers(1, 3))
        def leave(self, b: int) -> None:
            self._do(
                lambda: service.leave(db, coalition=self.coalition, business=self.businesses[b])
            )

        @invariant()
        def ledger_holds(self) -> None:
            if not hasattr(self, "coalition"):
                return
            STEPS_RUN[0] += 1
            if STEPS_RUN[0] % 1_000 == 0:
                print(f"{STEPS_RUN[0]} operations checked", flush=True)
            if not hasattr(self, "watch"):
                self.watch = Watch(self.coalition.id)
            self.watch.check(db)
            if STEPS_RUN[0] % FULL_EVERY == 0:
                self.check_everything()

        def teardown(self) -> None:
            if hasattr(self, "coalition"):
                self.check_everything()

        def check_everything(self) -> None:
            # Each card's balance as a till reads it (Watch covers the rows each step touched).
            for card in self.cards:
                balance = service.balance(db, card, now=self.now)
                assert balance.available >= 0 and balance.pending >= 0 and balance.debt >= 0
            report = clearing.check(db, self.coalition)
            assert report.ok, report.breaches
            statement = clearing.statement(
                db, self.coalition, T0 - timedelta(days=1), self.now + timedelta(days=1)
            )
            assert sum(line.net_minor for line in statement.lines) == 0
            transfers = clearing.net(statement.lines)
            for line in statement.lines:
                paid = sum(a for d, _, a in transfers if d == line.business_id)
                got = sum(a for _, c, a in transfers if c == line.business_id)
                assert got - paid == line.net_minor

    return Ledger


def test_random_operations_keep_every_invariant(db: Session) -> None:
    machine = machine_for(db)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    kinds = {k for (k,) in db.query(Transaction.kind).distinct()}
    assert TxnKind.earn in kinds
    print(f"stateful loyalty run: {STEPS_RUN[0]} operations checked")
