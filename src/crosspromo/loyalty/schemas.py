"""Request shapes of the loyalty API; every integer bounded, text without control characters."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, Field

from crosspromo.fields import ONE_LINE, Input, Int

# Strict integers within bounds, one-line text without control characters (fields.py).
Card = Annotated[str, Field(min_length=1, max_length=60), ONE_LINE]
OrderRef = Annotated[str, Field(min_length=1, max_length=100, description="the receipt"), ONE_LINE]
OrderMinor = Annotated[Int, Field(ge=0, le=10**12, description="the receipt in minor units")]
Points = Annotated[Int, Field(ge=1, le=10**9)]


class CoalitionIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    timezone: Annotated[
        str | None,
        Field(max_length=64, description="IANA zone of clearing days; the founder's if omitted"),
        ONE_LINE,
    ] = None
    point_value_minor: Annotated[Int, Field(ge=1, le=1_000_000)] = 100
    max_share_bp: Annotated[Int, Field(ge=0, le=10_000)] = 5000
    pending_days: Annotated[Int, Field(ge=0, le=365)] = 14
    expiry_months: Annotated[Int, Field(ge=1, le=120)] = 12
    earn_milli: Annotated[Int, Field(ge=0, le=1_000_000)] = 50
    welcome_points: Annotated[Int, Field(ge=0, le=1_000_000)] = 0
    multipliers: dict[
        Annotated[str, Field(max_length=100)], Annotated[Int, Field(ge=0, le=1000)]
    ] = Field(default_factory=dict, max_length=50)


class InviteIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID  # the inviting member
    invitee_business_id: uuid.UUID


class JoinIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    earn_milli: Annotated[Int, Field(ge=0, le=1_000_000)] = 50
    welcome_points: Annotated[Int, Field(ge=0, le=1_000_000)] = 0
    multipliers: dict[
        Annotated[str, Field(max_length=100)], Annotated[Int, Field(ge=0, le=1000)]
    ] = Field(default_factory=dict, max_length=50)


class MemberIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID


class RulesIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    point_value_minor: Annotated[Int, Field(ge=1, le=1_000_000)]
    max_share_bp: Annotated[Int, Field(ge=0, le=10_000)]
    pending_days: Annotated[Int, Field(ge=0, le=365)]
    expiry_months: Annotated[Int, Field(ge=1, le=120)]


class CardIn(Input):
    """Enrolment at a member's till or on the coalition's public page: consent is required.

    With `card`, a printed blank card handed out at the till is activated for the holder.
    """

    model_config = ConfigDict(extra="forbid")
    coalition_id: uuid.UUID
    business_id: uuid.UUID
    card: Annotated[
        Card | None, Field(description="the number of a printed blank card to activate")
    ] = None
    phone: Annotated[str, Field(max_length=40), ONE_LINE] = ""
    email: Annotated[str, Field(max_length=254), ONE_LINE] = ""
    consent: bool
    marketing_consent: bool = False
    locale: Annotated[str, Field(pattern=r"^(en|ru)$")] = "en"


class EarnIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    card: Card
    order_minor: OrderMinor
    order_ref: OrderRef
    category: Annotated[str, Field(max_length=100), ONE_LINE] = ""


class SpendIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    card: Card
    order_minor: OrderMinor
    order_ref: OrderRef
    points: Annotated[Points | None, Field(description="omit to spend the most allowed")] = None


class ReversalIn(Input):
    model_config = ConfigDict(extra="forbid")
    order_minor: Annotated[
        OrderMinor | None, Field(description="the refunded part of the receipt; omit for all")
    ] = None
    reason: Annotated[str, Field(max_length=500), ONE_LINE] = ""


class ReserveIn(Input):
    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    reserve_minor: Annotated[Int, Field(ge=0, le=10**12)]


class CardSheetIn(Input):
    """Cards to print on A4: `count` new blank numbered cards, or the given `cards`."""

    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    count: Annotated[Int | None, Field(ge=1, le=1000, description="new blank cards")] = None
    cards: list[Card] = Field(default_factory=list, max_length=1000)
    locale: Annotated[str, Field(pattern=r"^(en|ru)$")] = "en"
