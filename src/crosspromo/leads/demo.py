"""The demo city's lead exchange: the estate agent's request form, routed to the plasterer's
specialists under a per-lead agreement. Built through the services, once; found afterwards."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.cli_support import operator
from crosspromo.leads import service
from crosspromo.leads.models import LeadForm, Specialist
from crosspromo.leads.schemas import FormCreate, SpecialistCreate
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Accept, Option, ProposalCreate

TITLE = "Renovation after your purchase"
AGENT, PLASTERER = "office=estate_agent", "craft=plasterer"
PRICE_MINOR = 50_000


@dataclass
class Exchange:
    agent: Business
    plasterer: Business
    form: LeadForm
    specialists: list[Specialist]


def pair(session: Session) -> tuple[Business, Business] | None:
    """The city's first estate agent and the plasterer nearest to it."""
    agent = session.scalar(
        select(Business).where(Business.category == AGENT).order_by(Business.slug)
    )
    plasterers = list(session.scalars(select(Business).where(Business.category == PLASTERER)))
    if agent is None or not plasterers:
        return None

    def far(b: Business) -> float:
        if None in (agent.lat, agent.lon, b.lat, b.lon):
            return float("inf")
        return (b.lat - agent.lat) ** 2 + (b.lon - agent.lon) ** 2  # type: ignore[operator]

    return agent, min(plasterers, key=lambda b: (far(b), b.slug))


def demo_exchange(session: Session, agent: Business, plasterer: Business) -> Exchange:
    """The agreement (per lead), the agent's form and two plasterer specialists."""
    found = session.scalar(
        select(LeadForm).where(LeadForm.business_id == agent.id, LeadForm.title == TITLE)
    )
    if found is not None:
        people = list(
            session.scalars(select(Specialist).where(Specialist.business_id == plasterer.id))
        )
        return Exchange(agent, plasterer, found, people)
    as_agent, as_plasterer = operator(agent), operator(plasterer)
    if service.per_lead_terms(session, agent.id, plasterer.id) is None:
        option = Option.model_validate(
            {
                "mechanic": "staff_recommendations",
                "title": "Buyers of flats passed on for renovation",
                "proposer": {"gives": "buyers who need renovation", "gets": "a fee per lead"},
                "partner": {"gives": "500 RUB per accepted lead", "gets": "renovation clients"},
                "payment_model": "per_lead",
                "payment_minor": PRICE_MINOR,
                "currency": agent.currency,
                "lead_handoff": "through the agent's request form; answer within two hours",
            }
        )
        proposal = partnerships.propose(
            session,
            as_agent,
            from_business_id=agent.id,
            data=ProposalCreate(to_business=plasterer.slug, options=[option]),
        )
        # the owner's own terms count as accepted by its side: the partner's owner agrees
        partnerships.accept(session, as_plasterer, proposal.id, Accept(version=1))
    districts = [
        {"name": name, "lat": b.lat, "lon": b.lon}
        for name, b in (("Centre", agent), ("Workshops", plasterer))
        if b.lat is not None and b.lon is not None
    ]
    form = service.create_form(
        session,
        as_agent,
        agent.id,
        FormCreate.model_validate(
            {
                "title": TITLE,
                "intro": "Bought a flat? Our partners plaster, fit windows and furnish it.",
                "categories": [PLASTERER, "craft=window_construction"],
                "districts": districts,
                "response_minutes": 120,
                "reminder_minutes": 30,
            }
        ),
    )
    people = [
        service.create_specialist(
            session,
            as_plasterer,
            plasterer.id,
            SpecialistCreate(name=name, categories=[PLASTERER], radius_km=40, capacity_per_day=cap),
        )
        for name, cap in (("Ivan Petrov", 4), ("Oleg Smirnov", 2))
    ]
    return Exchange(agent, plasterer, form, people)
