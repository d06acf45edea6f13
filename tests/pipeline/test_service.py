"""Pipeline rules on both engines: stages, the proposal sync, follow-ups, targets, reciprocity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role, User
from crosspromo.accounts.service import Actor
from crosspromo.errors import Conflict, Forbidden, Invalid, NotFound
from crosspromo.pipeline import service
from crosspromo.pipeline.models import Activity, Kind, Stage
from crosspromo.pipeline.schemas import (
    ActivityCreate,
    DeliveryCreate,
    EntryCreate,
    EntryUpdate,
    StageMove,
    TargetSet,
)
from tests.conftest import make_owner
from tests.pipeline.factories import actor, agree, counter, parties, propose


@pytest.fixture
def p(db: Session) -> dict[str, Any]:
    return parties(db)


def _entry(db: Session, p: dict[str, Any], **data: Any) -> Any:
    entry = service.create_entry(
        db,
        p["m"],
        business_id=p["bakery"].id,
        data=EntryCreate(**({"partner_name": "Florist"} | data)),
        user_id=p["manager"].id,
    )
    db.commit()
    return entry


def _stages(db: Session, entry: Any) -> list[tuple[Any, Any]]:
    log, _ = service.activities(
        db, _owner_of(db, entry), business_id=entry.business_id, entry_id=entry.id
    )
    return [(a.from_stage, a.to_stage) for a in reversed(log) if a.to_stage]


def _owner_of(db: Session, entry: Any) -> Actor:
    return Actor(key_business_id=entry.business_id, key_role=Role.owner)


def test_any_stage_to_any_stage_and_each_move_is_logged(db: Session, p: dict[str, Any]) -> None:
    entry = _entry(db, p)
    for stage in (Stage.meeting, Stage.contacted, Stage.ended, Stage.prospect):
        service.move(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=entry.id,
            data=StageMove(stage=stage),
            user_id=p["manager"].id,
        )
    db.commit()
    assert entry.stage is Stage.prospect
    assert _stages(db, entry) == [
        (None, Stage.prospect),
        (Stage.prospect, Stage.meeting),
        (Stage.meeting, Stage.contacted),
        (Stage.contacted, Stage.ended),
        (Stage.ended, Stage.prospect),
    ]


def test_active_needs_an_agreed_proposal(db: Session, p: dict[str, Any]) -> None:
    entry = _entry(db, p)
    with pytest.raises(Conflict) as refused:
        service.move(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=entry.id,
            data=StageMove(stage="active"),
        )
    assert refused.value.field == "stage" and refused.value.kind == "needs-agreement"
    with pytest.raises(Conflict):
        _entry(db, p, stage="active")
    db.rollback()
    # the entry for the cafe adopts the proposal the moment it is sent
    linked = _entry(db, p, partner_name="", partner_business=p["cafe"].slug)
    proposal = propose(db, p)
    db.refresh(linked)
    assert linked.stage is Stage.proposal and linked.partner_name == "Cafe"
    assert linked.proposal_id == proposal.id
    with pytest.raises(Conflict):
        service.move(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=linked.id,
            data=StageMove(stage="active"),
        )
    agree(db, p, proposal)
    service.sync(db, p["m"], business_id=p["bakery"].id)
    assert linked.stage is Stage.active
    service.move(
        db, p["m"], business_id=p["bakery"].id, entry_id=linked.id, data=StageMove(stage="paused")
    )
    service.sync(db, p["m"], business_id=p["bakery"].id)
    assert linked.stage is Stage.paused  # a manual pause outlives the sync
    service.move(
        db, p["m"], business_id=p["bakery"].id, entry_id=linked.id, data=StageMove(stage="active")
    )
    with pytest.raises(Conflict) as contradicted:
        service.move(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=linked.id,
            data=StageMove(stage="meeting"),
        )
    assert contradicted.value.kind == "stage-follows-proposal"


def test_every_live_proposal_has_an_entry_that_follows_it(db: Session, p: dict[str, Any]) -> None:
    prospect = _entry(db, p, partner_name="", partner_business=p["cafe"].slug, stage="meeting")
    proposal = propose(db, p)
    mine, _ = service.list_entries(db, p["m"], business_id=p["bakery"].id)
    theirs, _ = service.list_entries(db, p["b"], business_id=p["cafe"].id)
    db.commit()
    # the bakery's earlier entry for the cafe adopts the proposal; the cafe gets a new entry
    assert [(e.id, e.stage, e.proposal_id) for e in mine] == [
        (prospect.id, Stage.proposal, proposal.id)
    ]
    assert [(e.partner_name, e.stage, e.partner_business_id) for e in theirs] == [
        ("Bakery", Stage.proposal, p["bakery"].id)
    ]
    counter(db, p, proposal)
    mine, _ = service.list_entries(db, p["m"], business_id=p["bakery"].id)
    assert mine[0].stage is Stage.negotiating
    agree(db, p, proposal)
    theirs, _ = service.list_entries(db, p["b"], business_id=p["cafe"].id)
    assert theirs[0].stage is Stage.active
    # listing again adds nothing
    again, _ = service.list_entries(db, p["b"], business_id=p["cafe"].id)
    assert len(again) == 1
    # the entries moved when the proposal did, whoever was looking
    assert _stages(db, theirs[0])[-2:] == [
        (Stage.proposal, Stage.negotiating),
        (Stage.negotiating, Stage.active),
    ]


def test_paging_by_cursor(db: Session, p: dict[str, Any]) -> None:
    made = {_entry(db, p, partner_name=f"P{i}").id for i in range(5)}
    seen, cursor = [], None
    while True:
        rows, cursor = service.list_entries(
            db, p["m"], business_id=p["bakery"].id, limit=2, cursor=cursor
        )
        seen += [e.id for e in rows]
        if cursor is None:
            break
    assert len(seen) == 5 and set(seen) == made
    with pytest.raises(Invalid) as bad:
        service.list_entries(db, p["m"], business_id=p["bakery"].id, cursor="garbage!")
    assert bad.value.field == "cursor"


def test_follow_ups_due_today_and_overdue_not_ended(db: Session, p: dict[str, Any]) -> None:
    today = date(2026, 3, 10)
    due = _entry(db, p, partner_name="Due", next_follow_up_on=date(2026, 3, 10))
    late = _entry(db, p, partner_name="Late", next_follow_up_on=date(2026, 3, 1))
    _entry(db, p, partner_name="Later", next_follow_up_on=date(2026, 3, 11))
    _entry(db, p, partner_name="Gone", next_follow_up_on=date(2026, 3, 1), stage="ended")
    _entry(db, p, partner_name="Never")
    found, _ = service.due_follow_ups(db, p["m"], p["bakery"].id, today)
    assert [e.id for e in found] == [late.id, due.id]
    # an activity with a follow-up date moves the reminder
    service.log_activity(
        db,
        p["m"],
        business_id=p["bakery"].id,
        entry_id=late.id,
        data=ActivityCreate(kind="call", text="called", follow_up_on=date(2099, 1, 1)),
        user_id=p["manager"].id,
    )
    found, _ = service.due_follow_ups(db, p["m"], p["bakery"].id, today)
    assert [e.id for e in found] == [due.id]
    service.set_follow_up(db, p["m"], business_id=p["bakery"].id, entry_id=due.id, on=None)
    assert service.due_follow_ups(db, p["m"], p["bakery"].id, today)[0] == []


def test_bad_activity_input_names_the_field(db: Session, p: dict[str, Any]) -> None:
    entry = _entry(db, p)

    def log(**data: Any) -> None:
        service.log_activity(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=entry.id,
            data=ActivityCreate(**data),
        )

    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with pytest.raises(Invalid) as early:
        log(kind="call", at=at, follow_up_on=date(2026, 3, 9))
    assert early.value.field == "follow_up_on"
    with pytest.raises(Invalid) as no_amount:
        log(kind="order", at=at)
    assert no_amount.value.field == "amount_minor"
    with pytest.raises(Invalid) as stray:
        log(kind="call", at=at, amount_minor=5)
    assert stray.value.field == "amount_minor"
    with pytest.raises(Invalid) as future:
        log(kind="meeting", at=datetime(2099, 1, 1, tzinfo=UTC))
    assert future.value.field == "at"


def test_targets_and_fact_per_manager(db: Session, p: dict[str, Any]) -> None:
    month = date(2026, 3, 1)
    with pytest.raises(Forbidden):
        service.set_target(
            db,
            p["m"],
            business_id=p["bakery"].id,
            data=TargetSet(user_id=p["manager"].id, month=month),
        )
    with pytest.raises(Invalid) as outsider:
        service.set_target(
            db,
            p["a"],
            business_id=p["bakery"].id,
            data=TargetSet(user_id=p["owner_b"].id, month=month),
        )
    assert outsider.value.field == "user_id"
    with pytest.raises(Invalid) as cashier:
        service.set_target(
            db,
            p["a"],
            business_id=p["bakery"].id,
            data=TargetSet(user_id=p["cashier"].id, month=month),
        )
    assert cashier.value.field == "user_id"
    target = TargetSet(
        user_id=p["manager"].id,
        month="2026-03",
        partners=2,
        calls_per_day=15,
        meetings=4,
        order_sum_minor=100_000,
    )
    service.set_target(db, p["a"], business_id=p["bakery"].id, data=target)
    service.set_target(  # setting again replaces
        db, p["a"], business_id=p["bakery"].id, data=target.model_copy(update={"meetings": 5})
    )
    entry = _entry(db, p)
    march = datetime(2026, 3, 3, 10, tzinfo=UTC)

    def log(kind: str, at: datetime = march, **data: Any) -> None:
        service.log_activity(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=entry.id,
            data=ActivityCreate(kind=kind, at=at, **data),
            user_id=p["manager"].id,
        )

    for _ in range(6):
        log("call")
    log("call", datetime(2026, 4, 1, 10, tzinfo=UTC))  # April: not counted
    log("meeting")
    log("order", amount_minor=30_000)
    log("order", amount_minor=12_500)
    log("order", amount_minor=999, currency="USD")
    # a partner that became active in March counts for its manager
    linked = _entry(db, p, partner_name="", partner_business=p["cafe"].slug)
    agree(db, p, propose(db, p))
    db.refresh(linked)
    assert linked.stage is Stage.active
    for activity in db.query(Activity).filter(Activity.entry_id == linked.id):
        activity.at = march
    db.commit()
    facts = {
        f.user_id: f
        for f in service.targets(
            db, p["a"], business_id=p["bakery"].id, month=month, today=date(2026, 3, 4)
        )
    }
    assert set(facts) == {p["owner_a"].id, p["manager"].id}  # cashiers have no targets
    fact = facts[p["manager"].id]
    assert fact.target is not None and fact.target.meetings == 5
    assert (fact.calls, fact.meetings, fact.partners) == (6, 1, 1)
    assert fact.working_days == 3 and fact.calls_per_day == 2.0  # Mon 2, Tue 3, Wed 4 March
    assert fact.order_sum_minor == 42_500 and fact.other_currencies == {"USD": 999}
    assert facts[p["owner_a"].id].target is None
    whole = service.targets(
        db, p["a"], business_id=p["bakery"].id, month=month, today=date(2026, 5, 1)
    )
    assert {f.user_id: f.working_days for f in whole}[p["manager"].id] == 22


def test_months_elapsed_counts_from_the_start_day() -> None:
    assert service.months_elapsed(date(2026, 1, 1), date(2026, 1, 31)) == 1
    assert service.months_elapsed(date(2026, 1, 15), date(2026, 2, 14)) == 1
    assert service.months_elapsed(date(2026, 1, 1), date(2026, 3, 31)) == 3
    assert service.months_elapsed(date(2026, 2, 1), date(2026, 2, 14)) == 0.5
    assert service.months_elapsed(date(2026, 2, 1), date(2026, 1, 1)) == 0


def test_reciprocity_math_and_the_one_sided_flag(db: Session, p: dict[str, Any]) -> None:
    proposal = propose(db, p)
    with pytest.raises(Conflict):
        service.reciprocity(db, p["m"], proposal_id=proposal.id, today=date(2026, 2, 28))
    agree(db, p, proposal)

    def deliver(who: str, what: str, quantity: int, on: date) -> None:
        service.record_delivery(
            db,
            p[who],
            proposal_id=proposal.id,
            data=DeliveryCreate(what=what, quantity=quantity, on=on),
            today=date(2026, 2, 28),
        )

    # two months elapsed: the bakery owes 4 mentions, the cafe 8 stories and 20 leads
    deliver("m", "newsletter mention", 4, date(2026, 1, 20))
    deliver("b", "Instagram story", 2, date(2026, 2, 3))
    deliver("b", "Leads", 3, date(2026, 2, 3))
    r = service.reciprocity(db, p["m"], proposal_id=proposal.id, today=date(2026, 2, 28))
    assert r.months == 2
    bakery, cafe = r.sides
    assert (bakery.role, bakery.expected, bakery.delivered, bakery.ratio) == ("proposer", 4, 4, 1)
    assert [(i.what, i.expected, i.delivered) for i in cafe.items] == [
        ("Instagram story", 8, 2),
        ("Leads", 20, 3),
    ]
    assert cafe.ratio == pytest.approx(5 / 28)
    assert r.one_sided and r.one_sided_business_id == p["cafe"].id
    assert r.to_dict()["one_sided"] is True
    # the cafe catches up to 75%: no longer under half
    deliver("b", "Instagram story", 6, date(2026, 2, 20))
    deliver("b", "Leads", 10, date(2026, 2, 21))
    r = service.reciprocity(db, p["b"], proposal_id=proposal.id, today=date(2026, 2, 28))
    assert r.sides[1].ratio == pytest.approx(21 / 28) and not r.one_sided
    # both lagging by June is not one-sided
    r = service.reciprocity(db, p["b"], proposal_id=proposal.id, today=date(2026, 6, 30))
    assert r.sides[0].ratio == pytest.approx(4 / 12) and r.sides[1].ratio == pytest.approx(21 / 84)
    assert not r.one_sided
    # over-delivering one item does not hide another
    deliver("m", "Newsletter mention", 50, date(2026, 2, 25))
    r = service.reciprocity(db, p["b"], proposal_id=proposal.id, today=date(2026, 2, 28))
    assert r.sides[0].delivered == 4 and r.sides[0].items[0].delivered == 54


def test_a_side_owing_nothing_yet_is_not_judged(db: Session, p: dict[str, Any]) -> None:
    proposal = propose(db, p)
    agree(db, p, proposal)
    r = service.reciprocity(db, p["m"], proposal_id=proposal.id, today=date(2026, 1, 2))
    assert r.sides[0].expected < 1 and not r.one_sided


def test_bad_deliveries_name_the_field(db: Session, p: dict[str, Any]) -> None:
    proposal = propose(db, p)
    agree(db, p, proposal)

    def deliver(actor: str = "m", **data: Any) -> None:
        body = {"what": "Newsletter mention", "quantity": 1, "on": date(2026, 2, 1)} | data
        service.record_delivery(
            db,
            p[actor],
            proposal_id=proposal.id,
            data=DeliveryCreate(**body),
            today=date(2026, 3, 1),
        )

    for data, field in (
        ({"what": "Billboard"}, "what"),
        ({"what": "Instagram story"}, "what"),  # owed by the other side
        ({"on": date(2025, 12, 31)}, "on"),
        ({"on": date(2026, 3, 2)}, "on"),
        ({"business_id": p["manager"].id}, "business_id"),
    ):
        with pytest.raises(Invalid) as refused:
            deliver(**data)
        assert refused.value.field == field, data
    with pytest.raises(ValueError):
        DeliveryCreate(what="x", quantity=-1, on=date(2026, 1, 1))
    with pytest.raises(Forbidden):
        deliver("c")
    make_owner(db, "x@example.com", "Outsider", category="shop=florist")
    intruder = actor(db, db.scalar(select(User).where(User.email == "x@example.com")))
    with pytest.raises(NotFound):
        service.reciprocity(db, intruder, proposal_id=proposal.id)


def test_cashiers_and_other_tenants_see_nothing(db: Session, p: dict[str, Any]) -> None:
    entry = _entry(db, p)
    with pytest.raises(Forbidden):
        service.list_entries(db, p["c"], business_id=p["bakery"].id)
    with pytest.raises(Forbidden):
        service.due_follow_ups(db, p["c"], p["bakery"].id)
    with pytest.raises(NotFound):
        service.get_entry(db, p["b"], business_id=p["bakery"].id, entry_id=entry.id)
    with pytest.raises(NotFound):  # the cafe's own business id does not open the bakery's entry
        service.get_entry(db, p["b"], business_id=p["cafe"].id, entry_id=entry.id)


def test_entry_input_rules(db: Session, p: dict[str, Any]) -> None:
    for data, field in (
        ({"partner_name": ""}, "partner_name"),
        ({"partner_business": "no-such-place"}, "partner_business"),
        ({"partner_business": p["bakery"].slug}, "partner_business"),
        ({"manager_id": p["cashier"].id}, "manager_id"),
    ):
        with pytest.raises(Invalid) as refused:
            _entry(db, p, **data)
        assert refused.value.field == field
        db.rollback()
    entry = _entry(db, p)
    with pytest.raises(Invalid) as unlinkable:
        service.update_entry(
            db,
            p["m"],
            business_id=p["bakery"].id,
            entry_id=entry.id,
            data=EntryUpdate(proposal_id=entry.id),
        )
    assert unlinkable.value.field == "proposal_id"
    updated = service.update_entry(
        db,
        p["m"],
        business_id=p["bakery"].id,
        entry_id=entry.id,
        data=EntryUpdate(contact="Anna, +7 900", manager_id=p["owner_a"].id),
    )
    assert updated.contact == "Anna, +7 900" and updated.manager_id == p["owner_a"].id
    assert updated.partner_name == "Florist"
    assert Kind.order.value == "order"
