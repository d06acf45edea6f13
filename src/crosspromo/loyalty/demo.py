"""The demo city's coalition: three neighbours share one points programme, with some history.

Built through the services, as the owners and tills would; created once, found afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.loyalty import service
from crosspromo.loyalty.models import Coalition

NAME = "Neighbours' points"
CUSTOMERS = ("+7 912 000-10-01", "+7 912 000-10-02", "+7 912 000-10-03")


def demo_coalition(
    session: Session, members: list[Business], now: datetime | None = None
) -> Coalition | None:
    """A coalition of the first three businesses, cards, and a few weeks of earning/spending."""
    found = session.scalar(select(Coalition).where(Coalition.name == NAME))
    if found is not None or len(members) < 3:
        return found
    now = now or utcnow()
    start = now - timedelta(days=35)
    founder, *others = members[:3]
    coalition = service.create_coalition(
        session,
        founder=founder,
        name=NAME,
        point_value_minor=100,
        max_share_bp=3000,
        pending_days=0,  # the demo's customers may spend what they just earned
        expiry_months=12,
        earn_milli=50,
        welcome_points=20,
        now=start,
    )
    for business in others:
        service.invite(session, coalition=coalition, by=founder, business_id=business.id)
        service.join(
            session,
            coalition=coalition,
            business=business,
            earn_milli=40,
            welcome_points=10,
            now=start,
        )
    cards = [
        service.enrol(
            session, coalition=coalition, business=founder, consent=True, phone=phone, now=start
        )[0]
        for phone in CUSTOMERS
    ]
    for week in range(4):
        when = start + timedelta(days=7 * week + 1)
        for i, card in enumerate(cards):
            shop = members[(i + week) % 3]
            service.earn(
                session,
                business=shop,
                card=card,
                order_minor=150_000 + 50_000 * i + 10_000 * week,
                order_ref=f"demo-{week}-{i}",
                now=when,
            )
        if week >= 2:
            for i, card in enumerate(cards[:2]):
                service.spend(
                    session,
                    business=members[(i + 1) % 3],
                    card=card,
                    order_minor=100_000,
                    order_ref=f"demo-spend-{week}-{i}",
                    points=30,
                    now=when + timedelta(days=1),
                )
    session.flush()
    return coalition
