"""Parties with an agreement, built through the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Accept, Counter, Option, ProposalCreate
from tests.conftest import PASSWORD, make_owner

OPTION: dict[str, Any] = {
    "mechanic": "audience_exchange",
    "title": "Newsletter swap",
    "proposer": {"gives": "mentions", "gets": "mentions"},
    "partner": {"gives": "mentions", "gets": "mentions"},
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "exchanges": [
        {"what": "Newsletter mention", "per_month": 2, "by": "proposer"},
        {"what": "Instagram story", "per_month": 4, "by": "partner"},
    ],
    "indicators": [{"name": "Leads", "target": 10, "by": "partner"}],
}


def actor(db: Session, user: Any) -> Actor:
    return accounts.actor_for_user(db, user.id)


def parties(db: Session) -> dict[str, Any]:
    """A bakery (proposer) and a cafe (partner), their owners, a manager and a cashier."""
    user_a, bakery = make_owner(db, "a@example.com", "Bakery")
    user_b, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    manager = accounts.add_member(
        db,
        workspace_id=bakery.workspace_id,
        email="m@example.com",
        role=Role.manager,
        password=PASSWORD,
    )
    cashier = accounts.add_member(
        db,
        workspace_id=bakery.workspace_id,
        email="c@example.com",
        role=Role.cashier,
        password=PASSWORD,
    )
    db.commit()
    return {
        "bakery": bakery,
        "cafe": cafe,
        "owner_a": user_a,
        "owner_b": user_b,
        "manager": manager,
        "cashier": cashier,
        "a": actor(db, user_a),
        "b": actor(db, user_b),
        "m": actor(db, manager),
        "c": actor(db, cashier),
    }


def propose(db: Session, p: dict[str, Any], **changes: Any) -> Any:
    proposal = partnerships.propose(
        db,
        p["a"],
        from_business_id=p["bakery"].id,
        data=ProposalCreate(
            to_business=p["cafe"].slug, options=[Option.model_validate({**OPTION, **changes})]
        ),
        user_id=p["owner_a"].id,
    )
    db.commit()
    return proposal


def counter(db: Session, p: dict[str, Any], proposal: Any) -> None:
    partnerships.counter(
        db,
        p["b"],
        proposal.id,
        Counter(based_on=proposal.current_version, options=[Option.model_validate(OPTION)]),
    )
    db.commit()


def agree(db: Session, p: dict[str, Any], proposal: Any) -> None:
    version = proposal.current_version
    partnerships.accept(db, p["a"], proposal.id, Accept(version=version))
    partnerships.accept(db, p["b"], proposal.id, Accept(version=version))
    db.commit()
