"""JSON API: /api/v1/businesses/{business_id}/pipeline/... and reciprocity per partnership."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from crosspromo.auth import ManagerBusiness
from crosspromo.partnerships.auth import PartyProposal
from crosspromo.pipeline import service
from crosspromo.pipeline.models import Stage
from crosspromo.pipeline.schemas import (
    ActivityCreate,
    ActivityOut,
    DeliveryCreate,
    DeliveryOut,
    EntryCreate,
    EntryOut,
    EntryUpdate,
    FollowUp,
    Page,
    ReciprocityOut,
    StageMove,
    TargetSet,
)
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1", tags=["pipeline"])

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the last page")]


class TargetsOut(BaseModel):
    month: date
    people: list[dict[str, Any]]


@router.get("/businesses/{business_id}/pipeline/entries", response_model=Page[EntryOut])
def list_entries(
    business: ManagerBusiness,
    actor: ApiActor,
    db: Db,
    stage: Stage | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[EntryOut]:
    """The pipeline, oldest first; every open or agreed proposal has its entry."""
    rows, following = service.list_entries(
        db, actor, business_id=business.id, stage=stage, limit=limit, cursor=cursor
    )
    return Page[EntryOut](items=[EntryOut.model_validate(e) for e in rows], next_cursor=following)


@router.get("/businesses/{business_id}/pipeline/stages")
def stage_counts(business: ManagerBusiness, actor: ApiActor, db: Db) -> dict[str, int]:
    """How many entries sit at each stage."""
    counts = service.stage_counts(db, actor, business_id=business.id)
    return {stage.value: count for stage, count in counts.items()}


@router.post("/businesses/{business_id}/pipeline/entries", response_model=EntryOut, status_code=201)
def create_entry(business: ManagerBusiness, actor: ApiActor, db: Db, body: EntryCreate) -> EntryOut:
    """Add a partner: `partner_business` (a platform id) or `partner_name` (and contact)."""
    entry = service.create_entry(
        db, actor, business_id=business.id, data=body, user_id=actor.user_id
    )
    return EntryOut.model_validate(entry)


@router.get("/businesses/{business_id}/pipeline/entries/{entry_id}", response_model=EntryOut)
def get_entry(business: ManagerBusiness, entry_id: str, actor: ApiActor, db: Db) -> EntryOut:
    entry = service.get_entry(db, actor, business_id=business.id, entry_id=parse_uuid(entry_id))
    return EntryOut.model_validate(entry)


@router.patch("/businesses/{business_id}/pipeline/entries/{entry_id}", response_model=EntryOut)
def update_entry(
    business: ManagerBusiness, entry_id: str, actor: ApiActor, db: Db, body: EntryUpdate
) -> EntryOut:
    """Change name, contact, manager, next follow-up or the linked proposal."""
    entry = service.update_entry(
        db,
        actor,
        business_id=business.id,
        entry_id=parse_uuid(entry_id),
        data=body,
        user_id=actor.user_id,
    )
    return EntryOut.model_validate(entry)


@router.post("/businesses/{business_id}/pipeline/entries/{entry_id}/stage", response_model=EntryOut)
def move(
    business: ManagerBusiness, entry_id: str, actor: ApiActor, db: Db, body: StageMove
) -> EntryOut:
    """Move to any stage; `active` needs an agreed proposal (409 otherwise)."""
    entry = service.move(
        db,
        actor,
        business_id=business.id,
        entry_id=parse_uuid(entry_id),
        data=body,
        user_id=actor.user_id,
    )
    return EntryOut.model_validate(entry)


@router.put(
    "/businesses/{business_id}/pipeline/entries/{entry_id}/follow-up", response_model=EntryOut
)
def set_follow_up(
    business: ManagerBusiness, entry_id: str, actor: ApiActor, db: Db, body: FollowUp
) -> EntryOut:
    """Set the next follow-up date (null clears it)."""
    entry = service.set_follow_up(
        db, actor, business_id=business.id, entry_id=parse_uuid(entry_id), on=body.on
    )
    return EntryOut.model_validate(entry)


@router.get(
    "/businesses/{business_id}/pipeline/entries/{entry_id}/activities",
    response_model=Page[ActivityOut],
)
def list_activities(
    business: ManagerBusiness,
    entry_id: str,
    actor: ApiActor,
    db: Db,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ActivityOut]:
    """The entry's log, newest first."""
    rows, following = service.activities(
        db,
        actor,
        business_id=business.id,
        entry_id=parse_uuid(entry_id),
        limit=limit,
        cursor=cursor,
    )
    return Page[ActivityOut](
        items=[ActivityOut.model_validate(a) for a in rows], next_cursor=following
    )


@router.post(
    "/businesses/{business_id}/pipeline/entries/{entry_id}/activities",
    response_model=ActivityOut,
    status_code=201,
)
def log_activity(
    business: ManagerBusiness, entry_id: str, actor: ApiActor, db: Db, body: ActivityCreate
) -> ActivityOut:
    """Log a call, meeting, note, e-mail or order (orders carry `amount_minor`)."""
    activity = service.log_activity(
        db,
        actor,
        business_id=business.id,
        entry_id=parse_uuid(entry_id),
        data=body,
        user_id=actor.user_id,
    )
    return ActivityOut.model_validate(activity)


@router.get("/businesses/{business_id}/pipeline/reminders", response_model=Page[EntryOut])
def reminders(
    business: ManagerBusiness,
    actor: ApiActor,
    db: Db,
    today: Annotated[date | None, Query(description="default: today where the business is")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[EntryOut]:
    """Entries whose follow-up is due today or overdue."""
    rows, following = service.due_follow_ups(
        db, actor, business.id, today, limit=limit, cursor=cursor
    )
    return Page[EntryOut](items=[EntryOut.model_validate(e) for e in rows], next_cursor=following)


@router.get("/businesses/{business_id}/pipeline/targets", response_model=TargetsOut)
def get_targets(
    business: ManagerBusiness,
    actor: ApiActor,
    db: Db,
    month: Annotated[
        date | None, Query(description="any day of the month; default: this month")
    ] = None,
) -> TargetsOut:
    """Targets and fact per manager and owner for a month."""
    chosen = (month or service.local_today(business)).replace(day=1)
    facts = service.targets(db, actor, business_id=business.id, month=chosen)
    return TargetsOut(month=chosen, people=[f.to_dict() for f in facts])


@router.put("/businesses/{business_id}/pipeline/targets", response_model=TargetsOut)
def set_target(business: ManagerBusiness, actor: ApiActor, db: Db, body: TargetSet) -> TargetsOut:
    """Owners set one person's targets for a month (replacing earlier ones)."""
    service.set_target(db, actor, business_id=business.id, data=body)
    facts = service.targets(db, actor, business_id=business.id, month=body.month)
    return TargetsOut(month=body.month, people=[f.to_dict() for f in facts])


@router.get("/partnerships/{proposal_id}/reciprocity", response_model=ReciprocityOut)
def reciprocity(
    proposal: PartyProposal,
    actor: ApiActor,
    db: Db,
    today: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    """Per side: delivered against owed since the start, and the one-sided flag."""
    return service.reciprocity(db, actor, proposal_id=proposal.id, today=today).to_dict()


@router.get("/partnerships/{proposal_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    proposal: PartyProposal, actor: ApiActor, db: Db, limit: Limit = 50, cursor: Cursor = None
) -> Page[DeliveryOut]:
    rows, following = service.deliveries(
        db, actor, proposal_id=proposal.id, limit=limit, cursor=cursor
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.model_validate(d) for d in rows], next_cursor=following
    )


@router.post("/partnerships/{proposal_id}/deliveries", response_model=DeliveryOut, status_code=201)
def record_delivery(
    proposal: PartyProposal,
    actor: ApiActor,
    db: Db,
    body: DeliveryCreate,
) -> DeliveryOut:
    """Record what one side delivered (an exchange or indicator named in the terms)."""
    delivery = service.record_delivery(
        db, actor, proposal_id=proposal.id, data=body, user_id=actor.user_id
    )
    return DeliveryOut.model_validate(delivery)
