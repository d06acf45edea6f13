"""Shapes of proposals: options with concrete terms (DOMAIN.md section 4)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mechanic = Literal[
    "joint_promotion",
    "joint_advertising",
    "audience_exchange",
    "staff_recommendations",
    "coalition_points",
    "co_branding",
    "event",
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
Text = Annotated[str, Field(max_length=2000)]


Short = Annotated[str, Field(max_length=200)]


class Side(BaseModel):
    """What one side gives and gets, who answers for it, and what its staff say."""

    model_config = ConfigDict(extra="forbid")
    gives: Text
    gets: Text
    expected_result: Text = ""
    responsible: Short = ""
    staff_script: Text = ""
    motivation: Annotated[str, Field(max_length=500, description="motivational discount")] = ""


class Exchange(BaseModel):
    """A recurring exchange, e.g. 2 newsletter mentions per month by the partner."""

    model_config = ConfigDict(extra="forbid")
    what: Annotated[str, Field(min_length=1, max_length=200)]
    per_month: Annotated[int, Field(ge=0, le=10_000)]
    by: Literal["proposer", "partner"]


class Indicator(BaseModel):
    """A partner activity indicator with its target (leads per month, coupons returned...)."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=200)]
    target: Annotated[int, Field(ge=0, le=10**9)]
    by: Literal["proposer", "partner"]


class Option(BaseModel):
    """One concrete way to work together; a proposal carries 1 to 5 of them."""

    model_config = ConfigDict(extra="forbid")
    mechanic: Mechanic
    title: Annotated[str, Field(min_length=1, max_length=200)]
    proposer: Side
    partner: Side
    starts_on: date | None = None
    ends_on: date | None = None
    resources: Text = ""
    tracking: Text = ""
    payment_model: PaymentModel = "barter"
    payment_minor: Annotated[int, Field(ge=0, le=10**11)] | None = None
    payment_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    exchanges: Annotated[list[Exchange], Field(max_length=20)] = []
    indicators: Annotated[list[Indicator], Field(max_length=20)] = []
    lead_handoff: Annotated[str, Field(max_length=2000, description="how leads pass")] = ""
    data_sharing: Literal["none", "aggregates", "consented_contacts"] = "none"

    @model_validator(mode="after")
    def _dates_and_money(self) -> Option:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        if (
            self.payment_model in ("per_sale_percent", "revenue_share")
            and self.payment_percent is None
        ):
            raise ValueError("this payment model needs payment_percent")
        needs_amount = ("per_click", "per_lead", "per_sale_fixed", "fixed_fee", "staff_reward")
        if self.payment_model in needs_amount and (self.payment_minor is None or not self.currency):
            raise ValueError("this payment model needs payment_minor and currency")
        return self


Options = Annotated[list[Option], Field(min_length=1, max_length=5)]


class ProposalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_business: Annotated[str, Field(description="the partner's id (slug)")]
    message: Annotated[str, Field(max_length=5000)] = ""
    options: Options


class Counter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    based_on: Annotated[int, Field(ge=1, description="the version you are answering")]
    options: Options
    note: Annotated[str, Field(max_length=2000)] = ""


class Accept(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Annotated[int, Field(ge=1)]
    option: Annotated[int, Field(ge=0, le=4)] = 0


class Decline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=5000)]


class InvitationCreate(BaseModel):
    """A proposal to a business that is not on the platform yet, by its owner's e-mail."""

    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]
    message: Annotated[str, Field(max_length=5000)] = ""
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
