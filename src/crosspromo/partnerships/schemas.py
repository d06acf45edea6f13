"""Shapes of proposals: options with concrete terms (DOMAIN.md section 4)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Day, Input, Int, Version, wrong

Mechanic = Literal[
    "joint_promotion",
    "joint_advertising",
    "audience_exchange",
    "staff_recommendations",
    "coalition_points",
    "co_branding",
    "event",
    "coalition",  # membership of a coalition loyalty programme (`Option.coalition`)
]
PaymentModel = Literal[
    "barter",
    "per_click",
    "per_lead",
    "per_sale_percent",
    "per_sale_fixed",
    "fixed_fee",
    "revenue_share",
    "staff_reward",
]
Text = Annotated[str, Field(max_length=2000), PLAIN_TEXT]
Long = Annotated[str, Field(max_length=5000), PLAIN_TEXT]
Slug = Annotated[
    str, Field(min_length=1, max_length=64, description="the partner's id (slug)"), ONE_LINE
]


Short = Annotated[str, Field(max_length=200), ONE_LINE]
Title = Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]


class Side(Input):
    """What one side gives and gets, who answers for it, and what its staff say."""

    model_config = ConfigDict(extra="forbid")
    gives: Text
    gets: Text
    expected_result: Text = ""
    responsible: Short = ""
    staff_script: Text = ""
    motivation: Annotated[
        str, Field(max_length=500, description="motivational discount"), PLAIN_TEXT
    ] = ""


class Exchange(Input):
    """A recurring exchange, e.g. 2 newsletter mentions per month by the partner."""

    model_config = ConfigDict(extra="forbid")
    what: Title
    per_month: Annotated[Int, Field(ge=0, le=10_000)]
    by: Literal["proposer", "partner"]
    # Sent through the platform's messages, and so counted from them in the reciprocity view:
    # a mention of the other side in this side's newsletter, or a mailing dedicated to it.
    sent_as: Literal["mention", "mailing"] | None = Field(
        default=None,
        description="counted from messages: a mention in a newsletter, or a dedicated mailing",
    )


class Indicator(Input):
    """A partner activity indicator with its target (leads per month, coupons returned...)."""

    model_config = ConfigDict(extra="forbid")
    name: Title
    target: Annotated[Int, Field(ge=0, le=10**9)]
    by: Literal["proposer", "partner"]


class CoalitionTerms(Input):
    """Membership of a coalition loyalty programme: the side that is not a member joins it
    under the named version of its rules, earning customers points at its own rate."""

    model_config = ConfigDict(extra="forbid")
    coalition_id: uuid.UUID
    rules_version: Annotated[Version, Field(description="the rules in force the joiner accepts")]
    earn_milli: Annotated[
        Int, Field(ge=0, le=1_000_000, description="the joiner's points per 1000 currency units")
    ] = 50
    welcome_points: Annotated[Int, Field(ge=0, le=1_000_000)] = 0


class Option(Input):
    """One concrete way to work together; a proposal carries 1 to 5 of them."""

    model_config = ConfigDict(extra="forbid")
    mechanic: Mechanic
    title: Title
    proposer: Side
    partner: Side
    starts_on: Day | None = None
    ends_on: Day | None = None
    resources: Text = ""
    tracking: Text = ""
    payment_model: PaymentModel = "barter"
    payment_minor: Annotated[Int, Field(ge=0, le=10**11)] | None = None
    payment_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3), ONE_LINE] | None = None
    exchanges: Annotated[list[Exchange], Field(max_length=20)] = []
    indicators: Annotated[list[Indicator], Field(max_length=20)] = []
    lead_handoff: Annotated[
        str, Field(max_length=2000, description="how leads pass"), PLAIN_TEXT
    ] = ""
    data_sharing: Literal["none", "aggregates", "consented_contacts"] = "none"
    coalition: CoalitionTerms | None = None

    @model_validator(mode="after")
    def _dates_and_money(self) -> Option:
        if (self.mechanic == "coalition") != (self.coalition is not None):
            raise wrong("coalition", "a coalition membership names the coalition and its rules")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise wrong("ends_on", "is before the start date")
        if (
            self.payment_model in ("per_sale_percent", "revenue_share")
            and self.payment_percent is None
        ):
            raise wrong("payment_percent", "this payment model needs a percent")
        needs_amount = ("per_click", "per_lead", "per_sale_fixed", "fixed_fee", "staff_reward")
        if self.payment_model in needs_amount and (self.payment_minor is None or not self.currency):
            raise wrong("payment_minor", "this payment model needs an amount and a currency")
        return self


Options = Annotated[list[Option], Field(min_length=1, max_length=5)]


class ProposalCreate(Input):
    model_config = ConfigDict(extra="forbid")
    to_business: Slug
    message: Long = ""
    options: Options


class Counter(Input):
    model_config = ConfigDict(extra="forbid")
    based_on: Annotated[Version, Field(description="the version you are answering")]
    options: Options
    note: Text = ""


class Accept(Input):
    model_config = ConfigDict(extra="forbid")
    version: Version
    option: Annotated[Int, Field(ge=0, le=4)] = 0


class Decline(Input):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500), PLAIN_TEXT]


class MessageIn(Input):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=5000), PLAIN_TEXT]


class InvitationCreate(Input):
    """A proposal to a business that is not on the platform yet, by its owner's e-mail."""

    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254), ONE_LINE]
    message: Long = ""
    options: Options


# --- answers (the API's response models) -------------------------------------------------


class VersionOut(BaseModel):
    number: int
    author_business_id: uuid.UUID
    options: list[dict[str, Any]]
    note: str
    accepted_by: list[uuid.UUID]
    created_at: datetime


class MessageOut(BaseModel):
    business_id: uuid.UUID
    text: str
    at: datetime


class ProposalOut(BaseModel):
    id: uuid.UUID
    from_business_id: uuid.UUID
    to_business_id: uuid.UUID
    message: str
    status: str
    current_version: int
    agreed_version: int | None
    decline_reason: str
    versions: list[VersionOut]
    messages: list[MessageOut]


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    link: str
