"""JSON API: a campaign's control group, its power before launch, and its measured uplift."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crosspromo.accounts.models import Role
from crosspromo.campaigns import service as campaigns
from crosspromo.errors import Invalid
from crosspromo.measurement import audience as audiences
from crosspromo.measurement.roi import roi
from crosspromo.measurement.uplift import measure
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1/campaigns", tags=["measurement"])
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the last page")]


class AudienceIn(BaseModel):
    """The control-group setting of one issuing member, before its customers are split."""

    model_config = ConfigDict(extra="forbid")
    business_id: str = Field(max_length=36)
    holdout_bp: Annotated[int, Field(ge=0, le=5_000, description="1000 = 10 % held out")] = (
        audiences.DEFAULT_HOLDOUT_BP
    )
    recency_days: Annotated[int, Field(ge=1, le=3_660)] | None = None
    min_spend_minor: Annotated[int, Field(ge=1, le=10**12)] | None = None


@router.get("/{campaign_id}/measure")
def measure_campaign(campaign_id: str, actor: ApiActor, db: Db) -> dict[str, Any]:
    """Uplift (treatment against holdout) with intervals, and the ROI; members only."""
    campaign, _ = campaigns.get(db, actor, parse_uuid(campaign_id), need=Role.manager)
    measured = measure(db, campaign_id=campaign.id)
    return measured.as_json() | {
        "roi": roi(db, campaign_id=campaign.id, measured=measured).as_json()
    }


@router.put("/{campaign_id}/audience")
def set_audience(campaign_id: str, body: AudienceIn, actor: ApiActor, db: Db) -> dict[str, Any]:
    """Holdout share and filters of an issuer's audience; refused once it is split."""
    found = audiences.configure(
        db,
        actor,
        parse_uuid(campaign_id),
        business_id=parse_uuid(body.business_id),
        holdout_bp=body.holdout_bp,
        recency_days=body.recency_days,
        min_spend_minor=body.min_spend_minor,
    )
    return {
        "business_id": str(found.business_id),
        "holdout_bp": found.holdout_bp,
        "recency_days": found.recency_days,
        "min_spend_minor": found.min_spend_minor,
        "drawn": found.drawn_at is not None,
    }


@router.get("/{campaign_id}/audience")
def audience(
    campaign_id: str,
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query(max_length=36)],
    limit: Annotated[int, Query(ge=1, le=5_000)] = 500,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The issuer's customers (its own ids) and their arm, a page at a time."""
    rows, following = audiences.members(
        db,
        actor,
        parse_uuid(campaign_id),
        business_id=parse_uuid(business_id),
        limit=limit,
        cursor=cursor,
    )
    return {
        "items": [{"customer": c, "arm": a.value} for c, a in rows],
        "next_cursor": following,
    }


@router.get("/{campaign_id}/power")
def power(
    campaign_id: str,
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query(max_length=36)],
) -> dict[str, Any]:
    """What this audience and split can detect (80 % power, 5 % two-sided)."""
    campaign, _ = campaigns.get(db, actor, parse_uuid(campaign_id), need=Role.manager)
    issuer = parse_uuid(business_id)
    if issuer not in campaigns.member_ids(db, campaign.id):
        raise Invalid("This business is not a member of the campaign.", field="business_id")
    pair = audiences.issuer_and_partner(db, campaign.id)
    honouring = pair[1] if pair is not None and pair[0] == issuer else None
    return audiences.power_for(db, campaign, issuer, honouring).as_json()
