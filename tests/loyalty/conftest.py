"""A coalition of three neighbours: a bakery (founder), a cafe and a florist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crosspromo.loyalty import clearing, service
from tests.conftest import make_owner

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def build(db: Session, **rules: Any) -> dict[str, Any]:
    bakery_user, bakery = make_owner(db, "bakery@example.com", "Bakery")
    cafe_user, cafe = make_owner(db, "cafe@example.com", "Cafe", category="amenity=cafe")
    florist_user, florist = make_owner(
        db, "florist@example.com", "Florist", category="shop=florist"
    )
    settings = {
        "point_value_minor": 100,  # 1 point = 1 rouble
        "max_share_bp": 5000,
        "pending_days": 0,
        "expiry_months": 12,
        "earn_milli": 50,  # 5 points per 100 roubles
    } | rules
    coalition = service.create_coalition(db, founder=bakery, name="Our street", now=T0, **settings)
    for business in (cafe, florist):
        service.invite(db, coalition=coalition, by=bakery, business_id=business.id)
        service.join(db, coalition=coalition, business=business, earn_milli=50, now=T0)
    card, token = service.enrol(
        db, coalition=coalition, business=bakery, consent=True, phone="+7 912 345-67-89", now=T0
    )
    db.commit()
    return {
        "coalition": coalition,
        "bakery": bakery,
        "cafe": cafe,
        "florist": florist,
        "bakery_user": bakery_user,
        "cafe_user": cafe_user,
        "florist_user": florist_user,
        "card": card,
        "token": token,
    }


@pytest.fixture
def street(db: Session) -> dict[str, Any]:
    return build(db)


def assert_ledger_ok(db: Session, coalition: Any) -> None:
    report = clearing.check(db, coalition)
    assert report.ok, report.breaches
