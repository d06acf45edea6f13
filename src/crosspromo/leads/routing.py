"""Routing a lead to a partner specialist, with why; reminders and moving on after deadlines.

Candidates are the active specialists of the businesses the lead may go to (the form's
members the customer consented to) who work in the lead's category, cover its place and have
capacity left today. Each gets a weight from five factors in (0, 1]:

- capacity: the specialist's leads per day (the weight's scale, not a factor);
- specialisation: 1 for a specialist of this one category, less the more they cover;
- distance: 1 at the specialist's base, falling to 0.5 at the edge of their area;
- acceptance: the share of past offers they accepted (Laplace-smoothed: (a + 1) / (n + 2));
- response: how fast they accepted, against the form's time to answer.

Weighted round-robin: the lead goes to the candidate with the least load today per unit of
weight, so over a day each specialist gets leads in proportion to their weight and never more
than their capacity. Ties go to the nearer one, then the lower id (deterministic).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, NotFound
from crosspromo.leads.deadlines import add_working_minutes
from crosspromo.leads.models import (
    Lead,
    LeadEvent,
    LeadForm,
    LeadOffer,
    OfferOutcome,
    Specialist,
    SpecialistCategory,
    Status,
)
from crosspromo.matching.service import distance_km
from crosspromo.notifications import service as notifications
from crosspromo.roles import Role

UNKNOWN_PLACE = 0.75  # the distance factor when the lead or the specialist has no place
PRIOR_RESPONSE = 0.75  # the response factor of a specialist who never accepted yet


class Home(NamedTuple):
    """The specialist's business: its id and zone, all routing needs of it."""

    id: uuid.UUID
    timezone: str


@dataclass
class Candidate:
    specialist: Specialist
    business: Home
    load_today: int
    distance_km: float | None
    factors: dict[str, float]
    weight: float

    @property
    def share(self) -> float:
        """Load per unit of weight after taking this lead: the lowest wins."""
        return (self.load_today + 1) / self.weight

    def why(self) -> dict[str, Any]:
        return {
            "factors": {k: round(v, 3) for k, v in self.factors.items()},
            "capacity_per_day": self.specialist.capacity_per_day,
            "load_today": self.load_today,
            "distance_km": None if self.distance_km is None else round(self.distance_km, 2),
            "weight": round(self.weight, 4),
            "share": round(self.share, 4),
        }


def _distance(lead: Lead, specialist: Specialist) -> float | None:
    if None in (lead.lat, lead.lon, specialist.lat, specialist.lon):
        return None
    return float(distance_km(lead.lat, lead.lon, specialist.lat, specialist.lon))


def covers(specialist: Specialist, lat: float | None, lon: float | None) -> bool:
    """Whether the place is inside the specialist's area (an unknown place is anywhere)."""
    if None in (lat, lon, specialist.lat, specialist.lon):
        return True
    d = float(distance_km(lat, lon, specialist.lat, specialist.lon))
    return d <= specialist.radius_km


def specialists_for(
    session: Session, business_ids: set[uuid.UUID], category: str
) -> list[tuple[Specialist, Home]]:
    """Active specialists of these businesses who work in the category."""
    if not business_ids:
        return []
    rows = session.execute(
        select(Specialist, Business.timezone)
        .join(SpecialistCategory, SpecialistCategory.specialist_id == Specialist.id)
        .join(Business, Business.id == Specialist.business_id)
        .where(
            SpecialistCategory.category == category,
            Specialist.business_id.in_(business_ids),
            Specialist.active.is_(True),
        )
        .order_by(Specialist.id)
    ).all()
    return [(s, Home(s.business_id, zone)) for s, zone in rows]


def load_today(
    session: Session, pairs: list[tuple[Specialist, Home]], now: datetime
) -> dict[uuid.UUID, int]:
    """Leads offered to each specialist since midnight in their business's zone."""
    if not pairs:
        return {}
    since = {s.id: clock.midnight(clock.local_date(now, b.timezone), b.timezone) for s, b in pairs}
    rows = session.execute(
        select(LeadOffer.specialist_id, LeadOffer.offered_at).where(
            LeadOffer.specialist_id.in_(list(since)),
            LeadOffer.offered_at >= min(since.values()),
        )
    ).all()
    found = dict.fromkeys(since, 0)
    for specialist_id, at in rows:
        if at >= since[specialist_id]:
            found[specialist_id] += 1
    return found


def record(
    session: Session, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int, float | None]]:
    """(answered offers, accepted offers, mean seconds to accept) of each specialist."""
    if not ids:
        return {}
    answered = case((LeadOffer.outcome != OfferOutcome.pending, 1), else_=0)
    accepted = case((LeadOffer.outcome == OfferOutcome.accepted, 1), else_=0)
    rows = session.execute(
        select(
            LeadOffer.specialist_id,
            func.sum(answered),
            func.sum(accepted),
            func.avg(LeadOffer.response_seconds),
        )
        .where(LeadOffer.specialist_id.in_(ids))
        .group_by(LeadOffer.specialist_id)
    ).all()
    return {
        sid: (int(n or 0), int(a or 0), None if mean is None else float(mean))
        for sid, n, a, mean in rows
    }


def candidates(
    session: Session,
    lead: Lead,
    form: LeadForm,
    business_ids: set[uuid.UUID],
    now: datetime,
    *,
    skip_full: bool = True,
) -> list[Candidate]:
    """The specialists this lead may go to now, best first, each with its factors."""
    pairs = specialists_for(session, business_ids, lead.category)
    tried = set(
        session.scalars(select(LeadOffer.specialist_id).where(LeadOffer.lead_id == lead.id))
    )
    pairs = [(s, b) for s, b in pairs if s.id not in tried and covers(s, lead.lat, lead.lon)]
    loads = load_today(session, pairs, now)
    history = record(session, [s.id for s, _ in pairs])
    found = []
    for specialist, business in pairs:
        load = loads.get(specialist.id, 0)
        if skip_full and load >= specialist.capacity_per_day:
            continue
        answered, accepted, mean_seconds = history.get(specialist.id, (0, 0, None))
        d = _distance(lead, specialist)
        if d is None:
            near = UNKNOWN_PLACE
        else:
            near = 1.0 - 0.5 * min(1.0, d / specialist.radius_km) if specialist.radius_km else 1.0
        allowed = form.response_minutes * 60.0
        response = (
            PRIOR_RESPONSE if mean_seconds is None else allowed / (allowed + max(0.0, mean_seconds))
        )
        factors = {
            "specialisation": 1.0 / (1.0 + 0.25 * (len(specialist.categories) - 1)),
            "distance": near,
            "acceptance": (accepted + 1) / (answered + 2),
            "response": response,
        }
        weight = float(specialist.capacity_per_day)
        for value in factors.values():
            weight *= value
        found.append(Candidate(specialist, business, load, d, factors, weight))
    found.sort(
        key=lambda c: (
            c.share,
            c.distance_km if c.distance_km is not None else float("inf"),
            str(c.specialist.id),
        )
    )
    return found


def log(
    session: Session,
    lead: Lead,
    status: str,
    *,
    at: datetime,
    business_id: uuid.UUID | None = None,
    specialist_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    note: str = "",
) -> None:
    lead.logged = (lead.logged or 0) + 1
    session.add(
        LeadEvent(
            lead_id=lead.id,
            seq=lead.logged,
            status=status,
            business_id=business_id,
            specialist_id=specialist_id,
            user_id=user_id,
            note=note,
            at=at,
        )
    )


def _deadline(
    form: LeadForm, specialist: Specialist, business: Home, now: datetime
) -> tuple[datetime, datetime | None]:
    def after(minutes: int) -> datetime:
        return add_working_minutes(
            now,
            minutes,
            timezone=business.timezone,
            days=specialist.days or 0b0011111,
            hour_from=specialist.hour_from,
            hour_until=specialist.hour_until,
        )

    remind = None
    if form.reminder_minutes and form.reminder_minutes < form.response_minutes:
        remind = after(form.response_minutes - form.reminder_minutes)
    return after(form.response_minutes), remind


def offer_to(
    session: Session,
    lead: Lead,
    form: LeadForm,
    chosen: Candidate,
    now: datetime,
    *,
    rank: int,
    user_id: uuid.UUID | None = None,
) -> LeadOffer:
    """Offer the lead to the chosen specialist: the live offer, its deadline, a notice."""
    due, remind = _deadline(form, chosen.specialist, chosen.business, now)
    offer = LeadOffer(
        lead_id=lead.id,
        specialist_id=chosen.specialist.id,
        business_id=chosen.business.id,
        rank=rank,
        why=chosen.why(),
        offered_at=now,
        deadline_at=due,
        remind_at=remind,
    )
    session.add(offer)
    session.flush()
    lead.status = Status.offered
    lead.offer_id = offer.id
    lead.specialist_id = chosen.specialist.id
    lead.deadline_at = due
    log(
        session,
        lead,
        Status.offered.value,
        at=now,
        business_id=chosen.business.id,
        specialist_id=chosen.specialist.id,
        user_id=user_id,
    )
    local_due = due.astimezone(clock.zone(chosen.business.timezone))
    notifications.notify(
        session,
        business_id=chosen.business.id,
        kind="lead.offered",
        params={
            "specialist": chosen.specialist.name,
            "category": lead.category,
            "due": local_due.strftime("%Y-%m-%d %H:%M"),
        },
        key=f"lead.offered:{offer.id}",
        link=f"/b/{chosen.business.id}/leads/{lead.id}",
        least=Role.cashier,
    )
    return offer


def route(
    session: Session,
    lead: Lead,
    form: LeadForm,
    business_ids: set[uuid.UUID],
    *,
    now: datetime | None = None,
    specialist_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> LeadOffer | None:
    """Offer the lead to the best candidate (or the one named); None when nobody is free."""
    now = now or utcnow()
    rank = 1 + int(
        session.scalar(
            select(func.count()).select_from(LeadOffer).where(LeadOffer.lead_id == lead.id)
        )
        or 0
    )
    if specialist_id is not None:
        named = [
            c
            for c in candidates(session, lead, form, business_ids, now, skip_full=False)
            if c.specialist.id == specialist_id
        ]
        if not named:
            raise NotFound("No such specialist for this lead.", field="specialist_id")
        chosen = named[0]
        if chosen.load_today >= chosen.specialist.capacity_per_day:
            raise Conflict(
                f"{chosen.specialist.name} already has {chosen.load_today} leads today "
                f"(capacity {chosen.specialist.capacity_per_day}).",
                field="specialist_id",
                kind="specialist-at-capacity",
            )
        return offer_to(session, lead, form, chosen, now, rank=rank, user_id=user_id)
    found = candidates(session, lead, form, business_ids, now)
    if not found:
        return None
    return offer_to(session, lead, form, found[0], now, rank=rank, user_id=user_id)


def move_on(
    session: Session, lead: Lead, offer_id: uuid.UUID, now: datetime
) -> LeadOffer | None | bool:
    """Close the overdue offer (if still live) and route on; False when someone else acted."""
    closed = session.execute(
        update(LeadOffer)
        .where(LeadOffer.id == offer_id, LeadOffer.outcome == OfferOutcome.pending)
        .values(outcome=OfferOutcome.moved_on, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    taken = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.offer_id == offer_id, Lead.status == Status.offered)
        .values(status=Status.new, offer_id=None, deadline_at=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(lead)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    log(session, lead, "moved_on", at=now, specialist_id=lead.specialist_id)
    return True


def due_offers(session: Session, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(lead id, offer id) of live offers past their deadline."""
    rows = session.execute(
        select(Lead.id, Lead.offer_id)
        .where(Lead.status == Status.offered, Lead.deadline_at <= now)
        .order_by(Lead.deadline_at)
        .limit(limit)
    ).all()
    return [(lead_id, offer_id) for lead_id, offer_id in rows if offer_id is not None]


def remind(session: Session, now: datetime, limit: int = 500) -> int:
    """Remind each specialist once before their offer's deadline."""
    rows = session.execute(
        select(LeadOffer, Specialist, Business)
        .join(Specialist, Specialist.id == LeadOffer.specialist_id)
        .join(Business, Business.id == LeadOffer.business_id)
        .where(
            LeadOffer.outcome == OfferOutcome.pending,
            LeadOffer.reminded_at.is_(None),
            LeadOffer.remind_at <= now,
            LeadOffer.deadline_at > now,
        )
        .limit(limit)
    ).all()
    for offer, specialist, business in rows:
        offer.reminded_at = now
        local_due = offer.deadline_at.astimezone(clock.zone(business.timezone))
        notifications.notify(
            session,
            business_id=business.id,
            kind="lead.reminder",
            params={"specialist": specialist.name, "due": local_due.strftime("%Y-%m-%d %H:%M")},
            key=f"lead.reminder:{offer.id}",
            link=f"/b/{business.id}/leads/{offer.lead_id}",
            least=Role.cashier,
        )
    return len(rows)
