"""JSON API: a campaign's conversions credited per partner and channel by one model."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from crosspromo.campaigns.auth import MemberCampaign
from crosspromo.measurement import attribution
from crosspromo.web.deps import ApiActor, Db

router = APIRouter(prefix="/api/v1/campaigns", tags=["measurement"])

Model = Literal["first", "last", "linear", "time_decay", "position", "markov", "shapley"]


def out(found: attribution.Attribution) -> dict[str, Any]:
    """An attribution as JSON: every credited pair, and the sums per partner and channel."""
    return {
        "campaign_id": str(found.campaign_id),
        "model": found.model,
        "half_life_days": found.half_life_days,
        "paths": found.paths,
        "converting_paths": found.converting_paths,
        "credits": [
            {
                "partner_id": str(row.partner_id),
                "partner": row.partner,
                "channel": row.channel,
                "conversions": row.conversions,
                "share": row.share,
            }
            for row in found.rows
        ],
        "by_partner": [
            {"partner": name, "conversions": round(value, 6)} for name, value in found.by_partner()
        ],
        "by_channel": [
            {"channel": name, "conversions": round(value, 6)} for name, value in found.by_channel()
        ],
    }


@router.get("/{campaign_id}/attribution")
def campaign_attribution(
    campaign: MemberCampaign,
    actor: ApiActor,
    db: Db,
    model: Annotated[Model, Query()] = "markov",
    half_life_days: Annotated[float, Query(ge=0.01, le=365)] = 7.0,
) -> dict[str, Any]:
    """Who brought the campaign's conversions: per partner and channel, by `model`."""
    found = attribution.attribute(
        db, campaign_id=campaign.id, model=model, half_life=timedelta(days=half_life_days)
    )
    return out(found)
