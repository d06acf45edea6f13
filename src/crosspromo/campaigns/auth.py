"""Typed permission for routes keyed by `campaign_id`: a campaign the caller's business is in."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from crosspromo.auth import guarded
from crosspromo.campaigns import service
from crosspromo.campaigns.models import Campaign
from crosspromo.roles import Role
from crosspromo.web.deps import ApiActor, Db, SignedIn, parse_uuid


@guarded("campaign", Role.manager)
def member_campaign(campaign_id: str, actor: ApiActor, db: Db) -> Campaign:
    """404 unless a business the caller manages is a member of the campaign."""
    campaign, _ = service.get(db, actor, parse_uuid(campaign_id))
    return campaign


MemberCampaign = Annotated[Campaign, Depends(member_campaign)]


@guarded("campaign", Role.manager)
def member_campaign_page(campaign_id: str, web: SignedIn, db: Db) -> Campaign:
    """The same check for signed-in pages."""
    campaign, _ = service.get(db, web.actor, parse_uuid(campaign_id))
    return campaign


MemberCampaignPage = Annotated[Campaign, Depends(member_campaign_page)]
