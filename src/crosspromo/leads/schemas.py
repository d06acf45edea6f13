"""Shapes of the lead exchange: forms, specialists, requests, answers, disputes, figures."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Input, Int, Minor

Line200 = Annotated[str, Field(max_length=200), ONE_LINE]
Name = Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
Text = Annotated[str, Field(max_length=2000), PLAIN_TEXT]
Category = Annotated[str, Field(min_length=1, max_length=100), ONE_LINE]
Categories = Annotated[list[Category], Field(min_length=1, max_length=10)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]


class District(Input):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100), ONE_LINE]
    lat: Lat
    lon: Lon


class FormCreate(Input):
    """A request form: whose specialists it reaches, which needs it takes, its rules."""

    model_config = ConfigDict(extra="forbid")
    title: Name
    intro: Text = ""
    scope: Literal["business", "partnership", "coalition"] = "business"
    proposal_id: uuid.UUID | None = None
    coalition_id: uuid.UUID | None = None
    categories: Categories
    districts: Annotated[list[District], Field(max_length=200)] = []
    response_minutes: Annotated[Int, Field(ge=1, le=10080)] = 120
    reminder_minutes: Annotated[Int, Field(ge=0, le=10080)] = 30
    accrue_on: Literal["accepted", "won"] = "accepted"
    dispute_days: Annotated[Int, Field(ge=0, le=365)] = 7
    duplicate_days: Annotated[Int, Field(ge=0, le=365)] = 30

    @model_validator(mode="after")
    def _scope_target(self) -> FormCreate:
        if self.scope == "partnership" and self.proposal_id is None:
            raise ValueError("a partnership form needs proposal_id")
        if self.scope == "coalition" and self.coalition_id is None:
            raise ValueError("a coalition form needs coalition_id")
        return self


class SpecialistCreate(Input):
    model_config = ConfigDict(extra="forbid")
    name: Name
    user_id: uuid.UUID | None = None
    categories: Categories
    lat: Lat | None = None
    lon: Lon | None = None
    radius_km: Annotated[float, Field(ge=0, le=1000)] = 15.0
    capacity_per_day: Annotated[Int, Field(ge=1, le=1000)] = 5
    days: Annotated[list[Annotated[Int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7)] = [
        0,
        1,
        2,
        3,
        4,
    ]
    hour_from: Annotated[Int, Field(ge=0, le=23)] = 9
    hour_until: Annotated[Int, Field(ge=1, le=24)] = 18

    @model_validator(mode="after")
    def _hours(self) -> SpecialistCreate:
        if self.hour_until <= self.hour_from:
            raise ValueError("hour_until must be after hour_from")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class RequestIn(Input):
    """What the customer sends on the public form."""

    model_config = ConfigDict(extra="forbid")
    categories: Categories
    need: Text = ""
    address: Line200 = ""
    district: Annotated[str, Field(max_length=100), ONE_LINE] = ""
    wanted: Line200 = ""
    name: Line200 = ""
    phone: Annotated[str, Field(max_length=40), ONE_LINE] = ""
    email: Annotated[str, Field(max_length=254), ONE_LINE] = ""
    consent: Annotated[list[uuid.UUID], Field(max_length=100)] = []
    website: Annotated[str, Field(max_length=200), ONE_LINE] = ""  # the honeypot: people leave it
    locale: Literal["en", "ru"] = "en"


class Received(BaseModel):
    received: bool
    reference: str


class RouteIn(Input):
    model_config = ConfigDict(extra="forbid")
    specialist_id: uuid.UUID | None = None


class AcceptIn(Input):
    model_config = ConfigDict(extra="forbid")
    specialist_id: uuid.UUID


class StatusIn(Input):
    model_config = ConfigDict(extra="forbid")
    status: Literal["contacted", "won", "lost"]
    amount_minor: Minor | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3), ONE_LINE] | None = None
    reason: Annotated[str, Field(max_length=500), PLAIN_TEXT] = ""

    @model_validator(mode="after")
    def _outcome(self) -> StatusIn:
        if self.status == "won" and self.amount_minor is None:
            raise ValueError("a won lead needs amount_minor")
        if self.status == "lost" and not self.reason.strip():
            raise ValueError("a lost lead needs a reason")
        return self


class HandOffIn(Input):
    model_config = ConfigDict(extra="forbid")
    to_business_id: uuid.UUID
    category: Category
    note: Text = ""


class DisputeIn(Input):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["duplicate", "spam", "out_of_area"]
    note: Text = ""


class AnswerIn(Input):
    model_config = ConfigDict(extra="forbid")
    uphold: bool
    answer: Text = ""


class FormOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    scope: str
    title: str
    categories: list[str]
    districts: list[dict[str, Any]]
    response_minutes: int
    reminder_minutes: int
    accrue_on: str
    dispute_days: int
    duplicate_days: int
    url: str
    snippet: str


class SpecialistOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    name: str
    categories: list[str]
    lat: float | None
    lon: float | None
    radius_km: float
    capacity_per_day: int
    hour_from: int
    hour_until: int


class OfferOut(BaseModel):
    specialist_id: uuid.UUID
    business_id: uuid.UUID
    rank: int
    why: dict[str, Any]
    offered_at: datetime
    deadline_at: datetime
    outcome: str


class EventOut(BaseModel):
    status: str
    business_id: uuid.UUID | None
    specialist_id: uuid.UUID | None
    user_id: uuid.UUID | None
    note: str
    at: datetime


class LeadOut(BaseModel):
    id: uuid.UUID
    form_id: uuid.UUID
    business_id: uuid.UUID
    parent_id: uuid.UUID | None
    to_business_id: uuid.UUID | None
    category: str
    later_steps: list[str]
    need: str
    district: str
    status: str
    specialist_id: uuid.UUID | None
    deadline_at: datetime | None
    amount_minor: int | None
    currency: str | None
    lost_reason: str
    charge_minor: int | None
    charge_currency: str | None
    created_at: datetime
    consent_link: str | None = None
    offers: list[OfferOut] = []
    events: list[EventOut] = []


class FigureOut(BaseModel):
    who: str  # business | specialist
    id: uuid.UUID
    name: str
    offered: int
    accepted: int
    acceptance_rate: float | None
    response_minutes: float | None
    won: int
    win_rate: float | None
    revenue: dict[str, int]


class DisputeOut(BaseModel):
    status: str
    reason: str
    answer: str
