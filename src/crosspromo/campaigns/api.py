"""JSON API under /api/v1/campaigns: plan, budget, tasks, stages, analysis, calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from crosspromo.businesses import service as businesses
from crosspromo.campaigns import calendar, service
from crosspromo.campaigns.models import Campaign
from crosspromo.campaigns.schemas import (
    Analysis,
    BudgetIn,
    CampaignCreate,
    CampaignUpdate,
    MemberIn,
    StageMove,
    TaskIn,
    TaskUpdate,
)
from crosspromo.errors import Invalid
from crosspromo.fields import Offset
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


def out(db: Db, campaign: Campaign, *, full: bool = True) -> dict[str, Any]:
    """A campaign as JSON; `full` adds budget, task counts, snapshots and the outcome."""
    body: dict[str, Any] = {
        "id": str(campaign.id),
        "proposal_id": str(campaign.proposal_id),
        "title": campaign.title,
        "stage": campaign.stage.value,
        "currency": campaign.currency,
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else None,
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
        "goal": {
            "business_id": str(campaign.goal_business_id) if campaign.goal_business_id else None,
            "metric": campaign.goal_metric.value if campaign.goal_metric else None,
            "kind": campaign.goal_kind.value if campaign.goal_kind else None,
            "target": campaign.goal_target,
            "deadline": campaign.goal_deadline.isoformat() if campaign.goal_deadline else None,
            "met": campaign.goal_met,
        },
        "analysis": {
            "why": campaign.why,
            "keep": campaign.keep,
            "cut": campaign.cut,
            "next_action": campaign.next_action,
        },
        "members": [str(m) for m in service.member_ids(db, campaign.id)],
        "created_at": campaign.created_at.isoformat(),
    }
    if not full:
        return body
    progress = service.progress(db, campaign.id)
    by_side = service.budget_by_side(db, campaign.id)
    found = service.outcome(db, campaign)
    body |= {
        "missing": service.missing(db, campaign, counts=progress, by_side=by_side),
        "budget": [
            {
                "id": str(b.id),
                "business_id": str(b.business_id),
                "item": b.item,
                "description": b.description,
                "amount_minor": b.amount_minor,
                "currency": b.currency,
                "hours": b.hours,
                "hourly_cost_minor": b.hourly_cost_minor,
            }
            for b in service.budget(db, campaign.id)
        ],
        "budget_by_side": {str(k): v for k, v in by_side.items()},
        "tasks": {
            "total": progress.total,
            "done": progress.done,
            "overdue": progress.overdue,
            "rehearsal_total": progress.rehearsal_total,
            "rehearsal_done": progress.rehearsal_done,
        },
        "snapshots": [
            {
                "business_id": str(s.business_id),
                "moment": s.moment,
                "period_start": s.period_start.isoformat(),
                "period_end": s.period_end.isoformat(),
                "figures": s.figures,
            }
            for s in service.snapshots(db, campaign.id)
        ],
        "outcome": None
        if found is None
        else {
            "baseline": found.baseline,
            "final": found.final,
            "change": found.change,
            "change_bp": found.change_bp,
            "met": found.met,
        },
    }
    return body


def task_out(task: Any) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "business_id": str(task.business_id),
        "title": task.title,
        "rehearsal": task.rehearsal,
        "assignee_user_id": str(task.assignee_user_id) if task.assignee_user_id else None,
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "status": task.status.value,
    }


@router.get("")
def list_campaigns(
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="created_at of the last item seen")] = None,
) -> dict[str, Any]:
    """A business's campaigns, newest first; pass `next_cursor` back for the next page."""
    before = None
    if cursor:
        try:
            before = datetime.fromisoformat(cursor)
        except ValueError:
            raise Invalid("Not a cursor from this API.", field="cursor") from None
    found = service.list_for(
        db, actor, business_id=parse_uuid(business_id), limit=limit, before=before
    )
    return {
        "items": [out(db, c, full=False) for c in found],
        "next_cursor": found[-1].created_at.isoformat() if len(found) == limit else None,
    }


@router.post("", status_code=201)
def create(
    actor: ApiActor, db: Db, business_id: Annotated[str, Query()], body: CampaignCreate
) -> dict[str, Any]:
    """Start planning a campaign under an agreement (managers and owners of a party)."""
    campaign = service.create(db, actor, business_id=parse_uuid(business_id), data=body)
    db.commit()
    return out(db, campaign)


@router.get("/{campaign_id}")
def get_campaign(campaign_id: str, actor: ApiActor, db: Db) -> dict[str, Any]:
    campaign, _ = service.get(db, actor, parse_uuid(campaign_id))
    return out(db, campaign)


@router.patch("/{campaign_id}")
def update(campaign_id: str, actor: ApiActor, db: Db, body: CampaignUpdate) -> dict[str, Any]:
    """Change title, dates or goal (money goals in major units, percent goals in percent)."""
    campaign = service.update_campaign(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return out(db, campaign)


@router.post("/{campaign_id}/members", status_code=201)
def add_member(campaign_id: str, actor: ApiActor, db: Db, body: MemberIn) -> dict[str, Any]:
    service.add_member(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return get_campaign(campaign_id, actor, db)


@router.post("/{campaign_id}/budget", status_code=201)
def add_budget(campaign_id: str, actor: ApiActor, db: Db, body: BudgetIn) -> dict[str, Any]:
    service.add_budget(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return get_campaign(campaign_id, actor, db)


@router.delete("/{campaign_id}/budget/{item_id}")
def remove_budget(campaign_id: str, item_id: str, actor: ApiActor, db: Db) -> dict[str, Any]:
    service.remove_budget(db, actor, parse_uuid(campaign_id), parse_uuid(item_id))
    db.commit()
    return get_campaign(campaign_id, actor, db)


@router.get("/{campaign_id}/tasks")
def list_tasks(
    campaign_id: str,
    actor: ApiActor,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    cursor: Offset = 0,
) -> dict[str, Any]:
    campaign, _ = service.get(db, actor, parse_uuid(campaign_id))
    found = service.tasks(db, campaign.id, limit=limit, offset=cursor)
    return {
        "items": [task_out(t) for t in found],
        "next_cursor": cursor + limit if len(found) == limit else None,
    }


@router.post("/{campaign_id}/tasks", status_code=201)
def add_task(campaign_id: str, actor: ApiActor, db: Db, body: TaskIn) -> dict[str, Any]:
    task = service.add_task(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return task_out(task)


@router.patch("/{campaign_id}/tasks/{task_id}")
def update_task(
    campaign_id: str, task_id: str, actor: ApiActor, db: Db, body: TaskUpdate
) -> dict[str, Any]:
    task = service.update_task(db, actor, parse_uuid(campaign_id), parse_uuid(task_id), body)
    db.commit()
    return task_out(task)


@router.post("/{campaign_id}/stage")
def move(campaign_id: str, actor: ApiActor, db: Db, body: StageMove) -> dict[str, Any]:
    """Move to the next stage; launch needs goal, dates, budget and a plan."""
    campaign = service.move(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return out(db, campaign)


@router.put("/{campaign_id}/analysis")
def analyse(campaign_id: str, actor: ApiActor, db: Db, body: Analysis) -> dict[str, Any]:
    campaign = service.analyse(db, actor, parse_uuid(campaign_id), body)
    db.commit()
    return out(db, campaign)


@router.get("/{campaign_id}/calendar.ics")
def ics(campaign_id: str, actor: ApiActor, db: Db) -> Response:
    """The campaign's dates and dated tasks for a calendar app."""
    campaign, _ = service.get(db, actor, parse_uuid(campaign_id))
    names = {b.id: b.name for b in businesses.by_ids(db, set(service.member_ids(db, campaign.id)))}
    body = calendar.ics(campaign, service.tasks(db, campaign.id, limit=10_000), names)
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign.id}.ics"'},
    )
