"""JSON API: forms, specialists, the public request, leads and their answers, figures."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from crosspromo.auth import CashierBusiness, ManagerBusiness
from crosspromo.leads import figures, flows, service
from crosspromo.leads.auth import CashierLead, ManagerLead
from crosspromo.leads.models import LeadDispute, LeadForm, Specialist, Status
from crosspromo.leads.schemas import (
    AcceptIn,
    AnswerIn,
    DisputeIn,
    DisputeOut,
    FigureOut,
    FormCreate,
    FormOut,
    HandOffIn,
    LeadOut,
    Received,
    RequestIn,
    RouteIn,
    SpecialistCreate,
    SpecialistOut,
    StatusIn,
)
from crosspromo.paging import Page
from crosspromo.settings import get_settings
from crosspromo.web.deps import ApiActor, Db, parse_uuid
from crosspromo.web.query import Cursor

router = APIRouter(prefix="/api/v1", tags=["lead exchange"])
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(s.value for s in Status) + ")$")]


def form_out(form: LeadForm) -> dict[str, Any]:
    base = get_settings().public_url.rstrip("/")
    return {
        **{
            k: getattr(form, k)
            for k in (
                "id",
                "business_id",
                "title",
                "categories",
                "districts",
                "response_minutes",
                "reminder_minutes",
                "accrue_on",
                "dispute_days",
                "duplicate_days",
            )
        },
        "scope": form.scope.value,
        "url": f"{base}/l/{form.id}",
        "snippet": snippet(base, form),
    }


def snippet(base: str, form: LeadForm) -> str:
    """The embeddable snippet for a partner's own site: the form in a frame."""
    return (
        f'<iframe src="{base}/l/{form.id}/embed" title="{html.escape(form.title)}" '
        'style="width:100%;min-height:640px;border:0" loading="lazy"></iframe>'
    )


def dispute_out(found: LeadDispute) -> dict[str, Any]:
    return {"status": found.status.value, "reason": found.reason.value, "answer": found.answer}


def specialist_out(s: Specialist) -> dict[str, Any]:
    return {
        k: getattr(s, k)
        for k in (
            "id",
            "business_id",
            "name",
            "categories",
            "lat",
            "lon",
            "radius_km",
            "capacity_per_day",
            "hour_from",
            "hour_until",
        )
    }


@router.post("/businesses/{business_id}/lead-forms", status_code=201, response_model=FormOut)
def create_form(
    business: ManagerBusiness, actor: ApiActor, db: Db, body: FormCreate
) -> dict[str, Any]:
    """A public request form of the business, one of its agreements, or its coalition."""
    return form_out(service.create_form(db, actor, business.id, body))


@router.get("/businesses/{business_id}/lead-forms", response_model=list[FormOut])
def list_forms(business: ManagerBusiness, actor: ApiActor, db: Db) -> list[dict[str, Any]]:
    return [form_out(f) for f in service.forms_of(db, actor, business.id)]


@router.post("/lead-forms/{form_id}/requests", status_code=201, response_model=Received)
def submit_request(request: Request, form_id: str, db: Db, body: RequestIn) -> dict[str, Any]:
    """The public request (no key: anyone may ask), limited per client address."""
    _, reference = flows.submit(request, db, parse_uuid(form_id), body)
    return {"received": True, "reference": reference}


@router.post("/businesses/{business_id}/specialists", status_code=201, response_model=SpecialistOut)
def create_specialist(
    business: ManagerBusiness, actor: ApiActor, db: Db, body: SpecialistCreate
) -> dict[str, Any]:
    """A person of the business who takes leads: categories, area, capacity, hours."""
    return specialist_out(service.create_specialist(db, actor, business.id, body))


@router.get("/businesses/{business_id}/specialists", response_model=list[SpecialistOut])
def list_specialists(business: CashierBusiness, actor: ApiActor, db: Db) -> list[dict[str, Any]]:
    return [specialist_out(s) for s in service.specialists_of(db, actor, business.id)]


@router.get("/businesses/{business_id}/leads", response_model=Page[LeadOut])
def list_leads(
    business: CashierBusiness,
    actor: ApiActor,
    db: Db,
    status: StatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Leads the business received or was offered, newest first."""
    found, next_cursor = service.list_leads(
        db, actor, business.id, status=status, limit=limit, cursor=cursor
    )
    return {"items": [service.lead_out(db, lead) for lead in found], "next_cursor": next_cursor}


@router.get("/businesses/{business_id}/leads/stats", response_model=list[FigureOut])
def lead_stats(business: CashierBusiness, actor: ApiActor, db: Db) -> list[dict[str, Any]]:
    """Response time, acceptance rate, win rate and revenue per partner and specialist."""
    return [f.to_dict() for f in figures.figures(db, actor, business.id)]


@router.get("/leads/{lead_id}", response_model=LeadOut)
def get_lead(lead: CashierLead, db: Db) -> dict[str, Any]:
    """The lead with its offers (each with why) and its status log (who, when)."""
    return service.lead_out(db, lead, detail=True)


@router.post("/leads/{lead_id}/route", response_model=LeadOut)
def route_lead(lead: ManagerLead, actor: ApiActor, db: Db, body: RouteIn) -> dict[str, Any]:
    """Offer a waiting lead now: to the best free specialist, or to the one named."""
    service.route_now(db, actor, lead.id, specialist_id=body.specialist_id)
    return service.lead_out(db, lead, detail=True)


@router.post("/leads/{lead_id}/accept", response_model=LeadOut)
def accept_lead(lead: CashierLead, actor: ApiActor, db: Db, body: AcceptIn) -> dict[str, Any]:
    """The specialist takes the lead; of two at once, exactly one gets it."""
    done = service.accept(db, actor, lead.id, body.specialist_id, user_id=actor.user_id)
    return service.lead_out(db, done)


@router.post("/leads/{lead_id}/status", response_model=LeadOut)
def set_status(lead: CashierLead, actor: ApiActor, db: Db, body: StatusIn) -> dict[str, Any]:
    """Contacted, won (with the amount) or lost (with a reason)."""
    done = service.set_status(db, actor, lead.id, body, user_id=actor.user_id)
    return service.lead_out(db, done)


@router.post("/leads/{lead_id}/handoff", status_code=201, response_model=LeadOut)
def hand_off(
    request: Request, lead: ManagerLead, actor: ApiActor, db: Db, body: HandOffIn
) -> dict[str, Any]:
    """Pass the customer on to a partner (the consent link when they did not consent yet)."""
    child, token = service.hand_off(db, actor, lead.id, body, user_id=actor.user_id)
    out = service.lead_out(db, child)
    if token:
        out["consent_link"] = get_settings().public_url.rstrip("/") + f"/l/consent/{token}"
    return out


@router.post("/leads/{lead_id}/dispute", status_code=201, response_model=DisputeOut)
def dispute(lead: ManagerLead, actor: ApiActor, db: Db, body: DisputeIn) -> dict[str, Any]:
    """The paying partner disputes the lead's charge within the window."""
    found = service.dispute(db, actor, lead.id, body)
    return dispute_out(found)


@router.post("/leads/{lead_id}/dispute/answer", response_model=DisputeOut)
def answer_dispute(lead: ManagerLead, actor: ApiActor, db: Db, body: AnswerIn) -> dict[str, Any]:
    """The receiving business upholds (the charge is reversed) or rejects the dispute."""
    found = service.answer_dispute(db, actor, lead.id, body)
    return dispute_out(found)
