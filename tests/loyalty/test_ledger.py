"""The ledger's rules through the service, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crosspromo.errors import DomainError
from crosspromo.loyalty import clearing, service
from crosspromo.loyalty.models import Lot
from tests.loyalty.conftest import T0, assert_ledger_ok, build


def _kind(fn: Any) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.kind


def test_earn_at_one_spend_at_another_and_clearing_nets_to_zero(db: Session, street: dict) -> None:
    s = street
    earned = service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=200_000, order_ref="B1", now=T0
    )
    assert earned.points == 100  # 5 per 100 roubles of 2000 roubles
    spent = service.spend(
        db,
        business=s["cafe"],
        card=s["card"],
        order_minor=50_000,
        order_ref="C1",
        points=60,
        now=T0 + timedelta(days=1),
    )
    assert spent.points == 60 and spent.value_minor == 6_000
    db.commit()
    assert service.balance(db, s["card"], now=T0 + timedelta(days=1)).available == 40
    statement = clearing.statement(db, s["coalition"], T0, T0 + timedelta(days=30))
    lines = {line.slug: line for line in statement.lines}
    bakery, cafe = lines[s["bakery"].slug], lines[s["cafe"].slug]
    assert (bakery.issued_minor, bakery.accepted_minor, bakery.net_minor) == (6_000, 0, -6_000)
    assert (cafe.issued_minor, cafe.accepted_minor, cafe.net_minor) == (0, 6_000, 6_000)
    assert sum(line.net_minor for line in statement.lines) == 0
    assert statement.transfers == [(s["bakery"].id, s["cafe"].id, 6_000)]
    assert_ledger_ok(db, s["coalition"])


def test_fifo_spends_oldest_lots_first_and_reversal_restores_them(
    db: Session, street: dict
) -> None:
    s = street
    service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=100_000, order_ref="B1", now=T0
    )
    service.earn(
        db,
        business=s["florist"],
        card=s["card"],
        order_minor=100_000,
        order_ref="F1",
        now=T0 + timedelta(hours=1),
    )
    spent = service.spend(
        db,
        business=s["cafe"],
        card=s["card"],
        order_minor=100_000,
        order_ref="C1",
        points=70,
        now=T0 + timedelta(hours=2),
    )
    lots = {lot.issuer_business_id: lot for lot in db.query(Lot).all()}
    assert lots[s["bakery"].id].remaining == 0  # the oldest went first
    assert lots[s["florist"].id].remaining == 30
    service.reverse(db, business=s["cafe"], transaction_id=spent.id, now=T0 + timedelta(hours=3))
    db.commit()
    db.expire_all()
    lots = {lot.issuer_business_id: lot for lot in db.query(Lot).all()}
    assert lots[s["bakery"].id].remaining == 50 and lots[s["florist"].id].remaining == 50
    assert lots[s["bakery"].id].expires_at == (T0 + timedelta(days=365 + 0)).replace(
        year=T0.year + 1, month=T0.month, day=T0.day
    )
    assert (
        _kind(lambda: service.reverse(db, business=s["cafe"], transaction_id=spent.id))
        == "already-reversed"
    )
    assert_ledger_ok(db, s["coalition"])


def test_refund_of_spent_points_becomes_a_debt_settled_by_next_earnings(
    db: Session, street: dict
) -> None:
    s = street
    earned = service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=200_000, order_ref="B1", now=T0
    )
    service.spend(
        db,
        business=s["cafe"],
        card=s["card"],
        order_minor=200_000,
        order_ref="C1",
        points=80,
        now=T0,
    )
    refund = service.reverse(db, business=s["bakery"], transaction_id=earned.id, now=T0)
    assert refund.points == 100
    bal = service.balance(db, s["card"], now=T0)
    assert (bal.available, bal.debt) == (0, 80)  # never negative: the rest is owed
    assert (
        _kind(lambda: service.reverse(db, business=s["bakery"], transaction_id=refund.id))
        == "reversal-of-reversal"
    )
    assert (
        _kind(
            lambda: service.reverse(
                db, business=s["bakery"], transaction_id=earned.id, order_minor=1
            )
        )
        == "refund-too-large"
    )
    service.earn(
        db, business=s["florist"], card=s["card"], order_minor=1_000_000, order_ref="F1", now=T0
    )
    bal = service.balance(db, s["card"], now=T0)
    assert (bal.available, bal.debt) == (420, 0)
    db.commit()
    assert_ledger_ok(db, s["coalition"])
    # The florist's 80 points repaid the bakery: the florist owes the bakery for them.
    lines = {
        line.slug: line
        for line in clearing.statement(db, s["coalition"], T0, T0 + timedelta(days=1)).lines
    }
    assert lines[s["florist"].slug].issued_minor == 8_000
    assert lines[s["bakery"].slug].net_minor == -8_000 + 8_000


def test_partial_refund_reverses_points_in_proportion(db: Session, street: dict) -> None:
    s = street
    earned = service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=200_000, order_ref="B1", now=T0
    )
    first = service.reverse(
        db, business=s["bakery"], transaction_id=earned.id, order_minor=50_000, now=T0
    )
    assert first.points == 25
    rest = service.reverse(db, business=s["bakery"], transaction_id=earned.id, now=T0)
    assert rest.points == 75 and rest.order_minor == 150_000
    assert service.balance(db, s["card"], now=T0).available == 0
    assert (
        _kind(lambda: service.reverse(db, business=s["bakery"], transaction_id=earned.id))
        == "refund-too-large"
    )
    db.commit()
    assert_ledger_ok(db, s["coalition"])


def test_refusals_have_stable_kinds(db: Session) -> None:
    s = build(db, pending_days=14)
    card = s["card"]
    service.earn(db, business=s["bakery"], card=card, order_minor=200_000, order_ref="B1", now=T0)
    later = T0 + timedelta(days=1)
    spend = service.spend

    assert (
        _kind(
            lambda: spend(
                db,
                business=s["cafe"],
                card=card,
                order_minor=100_000,
                order_ref="x",
                points=10,
                now=later,
            )
        )
        == "points-pending"
    )
    ready = T0 + timedelta(days=15)
    assert (
        _kind(
            lambda: spend(
                db,
                business=s["cafe"],
                card=card,
                order_minor=10_000,
                order_ref="x",
                points=60,
                now=ready,
            )
        )
        == "over-share"
    )
    assert (
        _kind(
            lambda: spend(
                db,
                business=s["cafe"],
                card=card,
                order_minor=1_000_000,
                order_ref="x",
                points=101,
                now=ready,
            )
        )
        == "over-balance"
    )
    gone = T0 + timedelta(days=400)
    assert (
        _kind(
            lambda: spend(
                db,
                business=s["cafe"],
                card=card,
                order_minor=1_000_000,
                order_ref="x",
                points=10,
                now=gone,
            )
        )
        == "points-expired"
    )
    assert (
        _kind(
            lambda: service.earn(
                db, business=s["bakery"], card=card, order_minor=1, order_ref="B1", now=T0
            )
        )
        == "order-already-recorded"
    )
    number = card.number
    wrong = number[:-1] + ("2" if number[-1] != "2" else "3")
    assert _kind(lambda: service.find_card(db, wrong)) == "card-mistyped"
    assert _kind(lambda: service.find_card(db, "hello")) == "card-malformed"
    assert service.find_card(db, service.display_number(number).lower()).id == card.id
    assert service.find_card(db, "8 912 345 67 89").id == card.id
    service.leave(db, coalition=s["coalition"], business=s["florist"])
    assert (
        _kind(
            lambda: service.earn(
                db, business=s["florist"], card=card, order_minor=1, order_ref="F", now=T0
            )
        )
        == "member-left"
    )
    other = service.create_coalition(db, founder=s["florist"], name="Elsewhere")
    stranger, _ = service.enrol(
        db, coalition=other, business=s["florist"], consent=True, email="x@example.com"
    )
    assert (
        _kind(
            lambda: service.earn(
                db, business=s["cafe"], card=stranger, order_minor=1, order_ref="C", now=T0
            )
        )
        == "card-other-coalition"
    )


def test_no_points_on_the_part_paid_with_points_and_welcome_bonus(db: Session) -> None:
    s = build(db, welcome_points=30)
    card = s["card"]
    service.earn(db, business=s["bakery"], card=card, order_minor=100_000, order_ref="B1", now=T0)
    assert service.balance(db, card, now=T0).available == 80  # 50 + welcome 30
    service.spend(
        db, business=s["bakery"], card=card, order_minor=100_000, order_ref="B2", points=40, now=T0
    )
    again = service.earn(
        db, business=s["bakery"], card=card, order_minor=100_000, order_ref="B2", now=T0
    )
    assert again.points == 48  # 960 roubles paid in money, no second welcome bonus
    db.commit()
    assert_ledger_ok(db, s["coalition"])


def test_expiry_writes_transactions_and_is_idempotent(db: Session, street: dict) -> None:
    s = street
    service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=200_000, order_ref="B1", now=T0
    )
    service.spend(
        db,
        business=s["cafe"],
        card=s["card"],
        order_minor=100_000,
        order_ref="C1",
        points=30,
        now=T0,
    )
    late = T0 + timedelta(days=370)
    assert service.expire(db, now=late) == 70
    assert service.expire(db, now=late) == 0
    db.commit()
    assert service.balance(db, s["card"], now=late).available == 0
    assert_ledger_ok(db, s["coalition"])
    position = {p.slug: p for p in clearing.positions(db, s["coalition"])}[s["bakery"].slug]
    assert position.liability_points == 0 and position.breakage_rate == pytest.approx(0.7)


def test_entries_are_append_only(db: Session, street: dict) -> None:
    s = street
    service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=200_000, order_ref="B1", now=T0
    )
    db.commit()
    for statement in ("UPDATE loyalty_entries SET amount = 0", "DELETE FROM loyalty_transactions"):
        with pytest.raises(DBAPIError):
            db.execute(text(statement))
        db.rollback()


def test_rule_change_takes_effect_when_every_member_accepted(db: Session, street: dict) -> None:
    s = street
    rules = service.current_rules(db, s["coalition"])
    rules.point_value_minor = 50
    version = service.propose_rules(db, coalition=s["coalition"], by=s["bakery"], rules=rules)
    assert s["coalition"].point_value_minor == 100
    assert not service.accept_rules(
        db, coalition=s["coalition"], business=s["cafe"], version=version.version
    )
    assert service.accept_rules(
        db, coalition=s["coalition"], business=s["florist"], version=version.version
    )
    assert s["coalition"].point_value_minor == 50 and s["coalition"].rules_version == 2


@given(
    when=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    months=st.integers(0, 240),
)
@settings(max_examples=300, deadline=None)
def test_add_months_agrees_with_dateutil(when: datetime, months: int) -> None:
    from dateutil.relativedelta import relativedelta

    assert service.add_months(when, months) == when + relativedelta(months=months)


def test_partial_refund_of_a_spend_puts_points_back_into_their_lots(
    db: Session, street: dict
) -> None:
    s = street
    for business, ref, hours in (("bakery", "B1", 0), ("florist", "F1", 1)):
        service.earn(
            db,
            business=s[business],
            card=s["card"],
            order_minor=100_000,
            order_ref=ref,
            now=T0 + timedelta(hours=hours),
        )
    expiry = {lot.issuer_business_id: lot.expires_at for lot in db.query(Lot).all()}
    spent = service.spend(
        db,
        business=s["cafe"],
        card=s["card"],
        order_minor=140_000,
        order_ref="C1",
        points=70,  # 50 from the bakery's lot, 20 from the florist's
        now=T0 + timedelta(hours=2),
    )

    def remaining() -> dict[Any, int]:
        db.expire_all()
        return {lot.issuer_business_id: lot.remaining for lot in db.query(Lot).all()}

    # A quarter of the receipt (35,000 of 140,000) comes back: a quarter of the points,
    # into the lot they were taken from last, and the florist no longer owes the cafe for them.
    part = service.reverse(
        db, business=s["cafe"], transaction_id=spent.id, order_minor=35_000, now=T0
    )
    assert part.points == 17 and part.value_minor == 1_700
    assert remaining() == {s["bakery"].id: 0, s["florist"].id: 47}
    assert (
        _kind(
            lambda: service.reverse(
                db, business=s["cafe"], transaction_id=spent.id, order_minor=105_001
            )
        )
        == "refund-too-large"
    )
    rest = service.reverse(db, business=s["cafe"], transaction_id=spent.id, now=T0)
    assert rest.points == 53 and rest.order_minor == 105_000  # never more than was spent
    assert remaining() == {s["bakery"].id: 50, s["florist"].id: 50}
    assert {lot.issuer_business_id: lot.expires_at for lot in db.query(Lot).all()} == expiry
    assert (
        _kind(lambda: service.reverse(db, business=s["cafe"], transaction_id=spent.id))
        == "already-reversed"
    )
    lines = {
        line.slug: line
        for line in clearing.statement(
            db, s["coalition"], T0 - timedelta(days=1), T0 + timedelta(days=1)
        ).lines
    }
    assert all(line.net_minor == 0 for line in lines.values())
    assert_ledger_ok(db, s["coalition"])
