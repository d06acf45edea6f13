"""The demo city's live joint promotion: an agreement, a running campaign, offers and codes.

Built through the services, as the two owners would through the pages, so `make demo` opens on
a campaign whose coupons print and whose codes the till redeems.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign
from crosspromo.campaigns.schemas import BudgetIn, CampaignCreate, CampaignUpdate, StageMove, TaskIn
from crosspromo.cli_support import operator
from crosspromo.offers import service as offers
from crosspromo.offers.schemas import CodesCreate, OfferCreate
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Accept, Option, ProposalCreate

TITLE = "Coffee and croissant weeks"
SHARED_CODE = "CROISSANT"
SECRET_WORD = "SOURDOUGH"


def live_campaign(
    session: Session, bakery: Business, cafe: Business, today: date | None = None
) -> Campaign:
    """The bakery's customers get 10% off at the cafe; created once, found afterwards."""
    found = session.scalar(select(Campaign).where(Campaign.title == TITLE))
    if found is not None:
        return found
    today = today or date.today()
    as_bakery, as_cafe = operator(bakery), operator(cafe)
    option = Option.model_validate(
        {
            "mechanic": "joint_promotion",
            "title": "10% off coffee for our bread buyers",
            "proposer": {
                "gives": "coupons in every bread bag",
                "gets": "cafe guests at the bakery",
                "expected_result": "+30 new buyers a month",
                "responsible": "the bakery's shift manager",
                "staff_script": "Our partner next door gives you 10% off coffee with this.",
            },
            "partner": {
                "gives": "10% off coffee on a bakery coupon",
                "gets": "bakery customers",
                "expected_result": "+40 receipts a month",
            },
            "starts_on": (today - timedelta(days=3)).isoformat(),
            "ends_on": (today + timedelta(days=27)).isoformat(),
            "tracking": "coupon codes redeemed at the cafe's till",
            "payment_model": "per_sale_percent",
            "payment_percent": "5",
            "exchanges": [{"what": "newsletter mentions", "per_month": 2, "by": "proposer"}],
        }
    )
    proposal = partnerships.propose(
        session,
        as_bakery,
        from_business_id=bakery.id,
        data=ProposalCreate(to_business=cafe.slug, message="Shall we?", options=[option]),
    )
    partnerships.accept(session, as_bakery, proposal.id, Accept(version=1))
    partnerships.accept(session, as_cafe, proposal.id, Accept(version=1))
    campaign = campaigns.create(
        session,
        as_bakery,
        business_id=bakery.id,
        data=CampaignCreate(
            proposal_id=proposal.id,
            title=TITLE,
            starts_on=today - timedelta(days=3),
            ends_on=today + timedelta(days=27),
        ),
    )
    campaigns.update_campaign(
        session,
        as_bakery,
        campaign.id,
        CampaignUpdate.model_validate(
            {"goal_business_id": cafe.id, "goal_metric": "receipts"}
            | {"goal_kind": "increase_percent", "goal_target": "10"}
        ),
    )
    for side, item, amount in ((bakery, "materials", 300_000), (cafe, "discounts", 500_000)):
        campaigns.add_budget(
            session,
            as_bakery,
            campaign.id,
            BudgetIn(
                business_id=side.id, item=item, amount_minor=amount, currency=campaign.currency
            ),
        )
    for side, title, rehearsal in (
        (bakery, "Print 500 coupons and put them in bread bags", False),
        (cafe, "Brief the baristas: how to check a code at the till", False),
        (cafe, "A customer shows a coupon on a phone", True),
    ):
        campaigns.add_task(
            session,
            as_bakery,
            campaign.id,
            TaskIn(
                business_id=side.id, title=title, rehearsal=rehearsal, due_on=today - timedelta(1)
            ),
        )
    campaigns.move(session, as_bakery, campaign.id, StageMove(to="agreed"))
    campaigns.move(session, as_bakery, campaign.id, StageMove(to="running"))
    offer = offers.create_offer(
        session,
        as_bakery,
        campaign.id,
        OfferCreate.model_validate(
            {
                "issuer_business_id": bakery.id,
                "honouring_business_id": cafe.id,
                "title": "10% off coffee for bakery customers",
                "benefit": "percent",
                "percent": "10",
                "min_order_minor": 15_000,
                "code_prefix": "BREAD",
            }
        ),
    )
    offers.add_codes(session, as_bakery, offer.id, CodesCreate(kind="unique", count=50))
    offers.add_codes(session, as_bakery, offer.id, CodesCreate(kind="shared", text=SHARED_CODE))
    offers.add_codes(session, as_bakery, offer.id, CodesCreate(kind="word", text=SECRET_WORD))
    return campaign


PAST_TITLE = "Bread for coffee: the June test"


def past_promotion(
    session: Session, bakery: Business, cafe: Business, promotion: dict[str, Any]
) -> Campaign:
    """The generator's past promotion as a campaign with its randomised holdout; created once.

    Its dates, code and split (treatment and holdout customer ids at the bakery) come from
    ground_truth.json, so `crosspromo measure` recovers the injected uplift from the imported
    sales (the truth check of bench/uplift.py).
    """
    from crosspromo.customers.models import Customer
    from crosspromo.demo.generate import PROMO_TREATED
    from crosspromo.measurement import audience
    from crosspromo.measurement.audience_models import Arm

    found = session.scalar(select(Campaign).where(Campaign.title == PAST_TITLE))
    if found is not None:
        return found
    live = live_campaign(session, bakery, cafe)
    as_bakery = operator(bakery)
    start, end = date.fromisoformat(promotion["start"]), date.fromisoformat(promotion["end"])
    campaign = campaigns.create(
        session,
        as_bakery,
        business_id=bakery.id,
        data=CampaignCreate(
            proposal_id=live.proposal_id, title=PAST_TITLE, starts_on=start, ends_on=end
        ),
    )
    campaigns.update_campaign(
        session,
        as_bakery,
        campaign.id,
        CampaignUpdate.model_validate(
            {"goal_business_id": cafe.id, "goal_metric": "receipts"}
            | {"goal_kind": "increase_percent", "goal_target": "10"}
        ),
    )
    campaigns.add_budget(
        session,
        as_bakery,
        campaign.id,
        BudgetIn(
            business_id=bakery.id,
            item="materials",
            amount_minor=200_000,
            currency=campaign.currency,
        ),
    )
    campaigns.add_task(
        session,
        as_bakery,
        campaign.id,
        TaskIn(business_id=bakery.id, title="Put a coupon in every bread bag", due_on=start),
    )
    campaigns.move(session, as_bakery, campaign.id, StageMove(to="agreed"))
    campaigns.move(session, as_bakery, campaign.id, StageMove(to="running"))
    offer = offers.create_offer(
        session,
        as_bakery,
        campaign.id,
        OfferCreate.model_validate(
            {
                "issuer_business_id": bakery.id,
                "honouring_business_id": cafe.id,
                "title": "A coffee on a bakery coupon",
                "benefit": "gift",
                "item": "a coffee",
                "valid_from": start.isoformat(),
                "valid_until": end.isoformat(),
            }
        ),
    )
    offers.add_codes(
        session, as_bakery, offer.id, CodesCreate(kind="shared", text=promotion["code"])
    )
    ids = dict(
        session.execute(
            select(Customer.external_id, Customer.id).where(Customer.business_id == bakery.id)
        ).all()
    )
    arms = {ids[c]: Arm.treatment for c in promotion["treatment"] if c in ids}
    arms |= {ids[c]: Arm.holdout for c in promotion["holdout"] if c in ids}
    audience.assign(
        session, campaign, bakery.id, arms, holdout_bp=round((1 - PROMO_TREATED) * 10_000)
    )
    campaigns.move(session, as_bakery, campaign.id, StageMove(to="results"))
    return campaign
