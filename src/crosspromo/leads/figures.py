"""Figures of the lead pipeline: response time, acceptance rate, win rate and revenue, per
partner business and per specialist, over the leads a business received or was offered.

Counted by the database: offers per specialist (accepted ones, mean seconds to accept), and
won leads with their amounts per currency (amounts in different currencies are never added).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.leads.models import Lead, LeadOffer, OfferOutcome, Specialist, Status
from crosspromo.roles import Actor, Role


@dataclass
class Figure:
    who: str  # business | specialist
    id: uuid.UUID
    name: str
    offered: int = 0
    accepted: int = 0
    response_seconds_total: float = 0.0
    won: int = 0
    lost: int = 0
    revenue: dict[str, int] = field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.offered if self.offered else None

    @property
    def response_minutes(self) -> float | None:
        return self.response_seconds_total / self.accepted / 60 if self.accepted else None

    @property
    def win_rate(self) -> float | None:
        return self.won / self.accepted if self.accepted else None

    def to_dict(self) -> dict[str, object]:
        return {
            "who": self.who,
            "id": self.id,
            "name": self.name,
            "offered": self.offered,
            "accepted": self.accepted,
            "acceptance_rate": self.acceptance_rate,
            "response_minutes": self.response_minutes,
            "won": self.won,
            "win_rate": self.win_rate,
            "revenue": dict(sorted(self.revenue.items())),
        }


def figures(
    session: Session, actor: Actor, business_id: uuid.UUID, *, since: datetime | None = None
) -> list[Figure]:
    """Per partner business (first) and per specialist, the leads the business took part in."""
    business = businesses.get(session, actor, business_id, need=Role.cashier)
    mine = or_(Lead.business_id == business.id, LeadOffer.business_id == business.id)
    accepted = case((LeadOffer.outcome == OfferOutcome.accepted, 1), else_=0)
    query = (
        select(
            LeadOffer.business_id,
            LeadOffer.specialist_id,
            func.count(),
            func.sum(accepted),
            func.sum(LeadOffer.response_seconds),
        )
        .join(Lead, Lead.id == LeadOffer.lead_id)
        .where(mine)
        .group_by(LeadOffer.business_id, LeadOffer.specialist_id)
    )
    outcomes = (
        select(
            LeadOffer.specialist_id,
            Lead.status,
            Lead.currency,
            func.count(),
            func.sum(Lead.amount_minor),
        )
        .join(
            Lead, (Lead.id == LeadOffer.lead_id) & (Lead.specialist_id == LeadOffer.specialist_id)
        )
        .where(
            mine,
            LeadOffer.outcome == OfferOutcome.accepted,
            Lead.status.in_((Status.won, Status.lost)),
        )
        .group_by(LeadOffer.specialist_id, Lead.status, Lead.currency)
    )
    if since is not None:
        query = query.where(LeadOffer.offered_at >= since)
        outcomes = outcomes.where(LeadOffer.offered_at >= since)
    per_specialist: dict[uuid.UUID, Figure] = {}
    owner: dict[uuid.UUID, uuid.UUID] = {}
    for biz, sid, offered, took, seconds in session.execute(query):
        per_specialist[sid] = Figure(
            "specialist",
            sid,
            "",
            int(offered),
            int(took or 0),
            float(seconds or 0),
        )
        owner[sid] = biz
    for sid, status, currency, count, amount in session.execute(outcomes):
        found = per_specialist.get(sid)
        if found is None:
            continue
        if status is Status.won:
            found.won += int(count)
            if currency:
                found.revenue[currency] = found.revenue.get(currency, 0) + int(amount or 0)
        else:
            found.lost += int(count)
    names = dict(
        session.execute(
            select(Specialist.id, Specialist.name).where(Specialist.id.in_(list(per_specialist)))
        ).all()
    )
    per_business: dict[uuid.UUID, Figure] = {}
    for b in businesses.by_ids(session, set(owner.values())):
        per_business[b.id] = Figure("business", b.id, b.name)
    for sid, figure in per_specialist.items():
        figure.name = names.get(sid, "")
        total = per_business[owner[sid]]
        total.offered += figure.offered
        total.accepted += figure.accepted
        total.response_seconds_total += figure.response_seconds_total
        total.won += figure.won
        total.lost += figure.lost
        for currency, amount in figure.revenue.items():
            total.revenue[currency] = total.revenue.get(currency, 0) + amount
    ordered_b = sorted(per_business.values(), key=lambda f: (f.id != business.id, f.name))
    ordered_s = sorted(per_specialist.values(), key=lambda f: (f.name, str(f.id)))
    return ordered_b + ordered_s
