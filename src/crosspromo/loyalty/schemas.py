"""Request shapes of the loyalty API; every integer bounded, text without control characters."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# No control characters (C0, DEL) in any text field.
TEXT = r"^[^\x00-\x1f\x7f]*$"
Card = Annotated[str, Field(min_length=1, max_length=60, pattern=TEXT)]
OrderRef = Annotated[
    str, Field(min_length=1, max_length=100, pattern=TEXT, description="the receipt number")
]
OrderMinor = Annotated[int, Field(ge=0, le=10**12, description="the receipt in minor units")]
Points = Annotated[int, Field(ge=1, le=10**9)]


class CoalitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    point_value_minor: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    max_share_bp: Annotated[int, Field(ge=0, le=10_000)] = 5000
    pending_days: Annotated[int, Field(ge=0, le=365)] = 14
    expiry_months: Annotated[int, Field(ge=1, le=120)] = 12
    earn_milli: Annotated[int, Field(ge=0, le=1_000_000)] = 50
    welcome_points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    multipliers: dict[
        Annotated[str, Field(max_length=100)], Annotated[int, Field(ge=0, le=1000)]
    ] = Field(default_factory=dict, max_length=50)


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID  # the inviting member
    invitee_business_id: uuid.UUID


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    earn_milli: Annotated[int, Field(ge=0, le=1_000_000)] = 50
    welcome_points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    multipliers: dict[
        Annotated[str, Field(max_length=100)], Annotated[int, Field(ge=0, le=1000)]
    ] = Field(default_factory=dict, max_length=50)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    point_value_minor: Annotated[int, Field(ge=1, le=1_000_000)]
    max_share_bp: Annotated[int, Field(ge=0, le=10_000)]
    pending_days: Annotated[int, Field(ge=0, le=365)]
    expiry_months: Annotated[int, Field(ge=1, le=120)]


class CardIn(BaseModel):
    """Enrolment at a member's till or on the coalition's public page: consent is required."""

    model_config = ConfigDict(extra="forbid")
    coalition_id: uuid.UUID
    business_id: uuid.UUID
    phone: Annotated[str, Field(max_length=40, pattern=TEXT)] = ""
    email: Annotated[str, Field(max_length=254, pattern=TEXT)] = ""
    consent: bool
    marketing_consent: bool = False
    locale: Annotated[str, Field(pattern=r"^(en|ru)$")] = "en"


class EarnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    card: Card
    order_minor: OrderMinor
    order_ref: OrderRef
    category: Annotated[str, Field(max_length=100, pattern=TEXT)] = ""


class SpendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    card: Card
    order_minor: OrderMinor
    order_ref: OrderRef
    points: Annotated[Points | None, Field(description="omit to spend the most allowed")] = None


class ReversalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_minor: Annotated[
        OrderMinor | None, Field(description="the refunded part of the receipt; omit for all")
    ] = None
    reason: Annotated[str, Field(max_length=500, pattern=TEXT)] = ""


class ReserveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    reserve_minor: Annotated[int, Field(ge=0, le=10**12)]
