"""Shapes of the pipeline API: entries, activities, targets, deliveries, reciprocity."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Day, Input, Instant, Int, Minor
from crosspromo.paging import Page as Page  # the pipeline's lists answer in the shared shape
from crosspromo.pipeline.models import Kind, Stage

Currency = Annotated[str, Field(pattern="^[A-Z]{3}$", description="ISO 4217, e.g. EUR")]
Name = Annotated[str, Field(max_length=200), ONE_LINE]
Contact = Annotated[str, Field(max_length=300), PLAIN_TEXT]
Note = Annotated[str, Field(max_length=2000), PLAIN_TEXT]


class EntryCreate(Input):
    """A partner on the platform (`partner_business`, its id/slug) or outside it (a name)."""

    model_config = ConfigDict(extra="forbid")
    partner_business: Annotated[str, Field(max_length=64), ONE_LINE] = ""
    partner_name: Name = ""
    contact: Contact = ""
    stage: Stage = Stage.prospect
    manager_id: uuid.UUID | None = None
    next_follow_up_on: Day | None = None
    proposal_id: uuid.UUID | None = None


class EntryUpdate(Input):
    """Only the fields sent change; `next_follow_up_on: null` clears the reminder."""

    model_config = ConfigDict(extra="forbid")
    partner_name: Name | None = None
    contact: Contact | None = None
    manager_id: uuid.UUID | None = None
    next_follow_up_on: Day | None = None
    proposal_id: uuid.UUID | None = None


class StageMove(Input):
    model_config = ConfigDict(extra="forbid")
    stage: Stage
    note: Note = ""


class FollowUp(Input):
    model_config = ConfigDict(extra="forbid")
    on: Day | None


class ActivityCreate(Input):
    """A call, meeting, note, e-mail or order; an order needs `amount_minor`."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind
    at: Instant | None = None
    text: Annotated[str, Field(max_length=5000), PLAIN_TEXT] = ""
    amount_minor: Minor | None = None
    currency: Currency | None = None
    follow_up_on: Day | None = None


class TargetSet(Input):
    """An owner's targets for one manager and month (`month` as YYYY-MM or its first day)."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID
    month: Day
    partners: Annotated[Int, Field(ge=0, le=10_000)] = 0
    calls_per_day: Annotated[Int, Field(ge=0, le=1_000)] = 0
    meetings: Annotated[Int, Field(ge=0, le=10_000)] = 0
    order_sum_minor: Minor = 0
    currency: Currency | None = None

    @field_validator("month", mode="before")
    @classmethod
    def _year_month(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 7:
            return f"{value}-01"
        return value

    @field_validator("month")
    @classmethod
    def _first_day(cls, value: date) -> date:
        if value.day != 1:
            raise ValueError("give the month as YYYY-MM or its first day")
        return value


class DeliveryCreate(Input):
    """What one side delivered; `business_id` defaults to the side of the one recording."""

    model_config = ConfigDict(extra="forbid")
    what: Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
    quantity: Annotated[Int, Field(ge=1, le=10**9)]
    on: Day
    note: Note = ""
    business_id: uuid.UUID | None = None


class EntryOut(Input):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    business_id: uuid.UUID
    partner_business_id: uuid.UUID | None
    partner_name: str
    contact: str
    stage: Stage
    manager_id: uuid.UUID | None
    next_follow_up_on: date | None
    proposal_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class ActivityOut(Input):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    entry_id: uuid.UUID
    kind: Kind
    at: datetime
    user_id: uuid.UUID | None
    text: str
    amount_minor: int | None
    currency: str | None
    follow_up_on: date | None
    from_stage: Stage | None
    to_stage: Stage | None


class DeliveryOut(Input):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    proposal_id: uuid.UUID
    business_id: uuid.UUID
    what: str
    quantity: int
    on: date
    note: str
    user_id: uuid.UUID | None


class ReciprocityItemOut(BaseModel):
    what: str
    kind: str  # exchange or indicator
    per_month: int
    expected: float
    delivered: int = Field(description="recorded by hand plus `sent`")
    sent_as: str | None = Field(
        default=None, description="mention or mailing: also counted from messages sent"
    )
    sent: int = Field(default=0, description="messages sent for the other side")
    reached: int = Field(default=0, description="the recipients of those messages")


class ReciprocitySideOut(BaseModel):
    business_id: uuid.UUID
    name: str
    role: str  # proposer or partner
    expected: float
    delivered: float  # counted up to what each item owes
    ratio: float | None
    items: list[ReciprocityItemOut]


class ReciprocityOut(BaseModel):
    """Per side of an agreement: delivered against owed since the start, and the flag."""

    proposal_id: uuid.UUID
    title: str
    starts_on: date
    until: date
    months: float
    sides: list[ReciprocitySideOut]
    one_sided: bool
    one_sided_business_id: uuid.UUID | None
    rule: str
