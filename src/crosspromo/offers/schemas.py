"""Shapes of offers, codes, validations, redemptions and reversals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Day, Input, Int, Minor, wrong
from crosspromo.offers.models import Benefit

MAX_ORDER_MINOR = 10**10  # 100 million in major units: anything above is a typo


class OfferCreate(Input):
    model_config = ConfigDict(extra="forbid")
    issuer_business_id: uuid.UUID  # hands the offer to its customers
    honouring_business_id: uuid.UUID  # its till honours it
    title: Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
    description: Annotated[str, Field(max_length=2000), PLAIN_TEXT] = ""
    benefit: Benefit
    percent: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)] | None = None
    amount_minor: Annotated[Int, Field(gt=0, le=MAX_ORDER_MINOR)] | None = None
    item: Annotated[str, Field(max_length=200), ONE_LINE] = ""
    min_order_minor: Annotated[Int, Field(ge=0, le=MAX_ORDER_MINOR)] = 0
    needs_partner_card: bool = False
    new_customers_only: bool = False
    valid_from: Day | None = None
    valid_until: Day | None = None
    days: Annotated[list[Annotated[Int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7)] = [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    hour_from: Annotated[Int, Field(ge=0, le=23)] = 0
    hour_until: Annotated[Int, Field(ge=1, le=24)] = 24
    total_limit: Annotated[Int, Field(gt=0, le=10**7)] | None = None
    per_customer_limit: Annotated[Int, Field(gt=0, le=1000)] | None = None
    stackable: bool = False
    reversal_minutes: Annotated[Int, Field(ge=0, le=60 * 24 * 30)] = 24 * 60
    code_prefix: Annotated[str, Field(max_length=8, pattern=r"^[A-Za-z0-9]*$")] = ""

    @model_validator(mode="after")
    def _consistent(self) -> OfferCreate:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise wrong("valid_until", "is before the first valid day")
        if self.hour_until <= self.hour_from:
            raise wrong("hour_until", "must be after the starting hour")
        if self.benefit is Benefit.percent and self.percent is None:
            raise wrong("percent", "a percent discount needs the percent")
        if self.benefit in (Benefit.fixed, Benefit.bundle_price) and self.amount_minor is None:
            raise wrong("amount_minor", "this benefit needs an amount")
        if self.benefit in (Benefit.gift, Benefit.free_item) and not self.item:
            raise wrong("item", "name the gift or free item")
        if self.issuer_business_id == self.honouring_business_id:
            raise wrong("honouring_business_id", "must differ from the business handing it out")
        return self


class CodesCreate(Input):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["unique", "shared", "word", "link"]
    count: Annotated[Int, Field(ge=1, le=100_000)] = 1
    text: Annotated[
        str, Field(max_length=64, description="shared code or secret word"), ONE_LINE
    ] = ""
    groups: Annotated[Int, Field(ge=1, le=10)] = 3
    group_size: Annotated[Int, Field(ge=1, le=10)] = 4
    staff_user_id: uuid.UUID | None = None
    label: Annotated[str, Field(max_length=200), ONE_LINE] = ""


class Till(Input):
    """What the cashier types: the code, the order amount and, where needed, the customer."""

    model_config = ConfigDict(extra="forbid")
    business_id: uuid.UUID
    code: Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
    order_minor: Minor  # above MAX_ORDER_MINOR the service answers "absurd-amount"
    customer: Annotated[str, Field(max_length=100, description="phone or e-mail"), ONE_LINE] = ""
    partner_card_shown: bool = False
    order_ref: Annotated[str, Field(max_length=100, description="the receipt number"), ONE_LINE] = (
        ""
    )


class PrintIn(Input):
    """A coupon print to run in the background (the worker renders it on every core)."""

    model_config = ConfigDict(extra="forbid")
    layout: Literal["a4", "card"] = "a4"
    locale: Literal["en", "ru"] = "en"
    limit: Annotated[Int, Field(ge=1, le=10_000)] | None = None
    after: Annotated[
        str, Field(max_length=64, description="the last code of the previous print"), ONE_LINE
    ] = ""


class ReversalIn(Input):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500), PLAIN_TEXT]


class WebhookIn(Input):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=8, max_length=500, pattern=r"^https?://"), ONE_LINE]


# --- answers (the API's response models) -------------------------------------------------


class OfferOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    issuer_business_id: uuid.UUID
    honouring_business_id: uuid.UUID
    title: str
    description: str
    benefit: Benefit
    percent_bp: int | None
    amount_minor: int | None
    item: str
    currency: str
    min_order_minor: int
    needs_partner_card: bool
    new_customers_only: bool
    valid_from: date | None
    valid_until: date | None
    days: list[int]  # 0 = Monday
    hour_from: int
    hour_until: int
    total_limit: int | None
    per_customer_limit: int | None
    stackable: bool
    reversal_minutes: int
    uses: int


class CodeOut(BaseModel):
    code: str  # as printed: generated codes grouped after their prefix
    kind: str
    uses: int
    max_uses: int | None
    staff_user_id: uuid.UUID | None
    label: str


class CodesCreated(BaseModel):
    created: int


class RedemptionOut(BaseModel):
    id: uuid.UUID
    offer_id: uuid.UUID
    business_id: uuid.UUID
    referrer_business_id: uuid.UUID
    order_minor: int
    discount_minor: int
    currency: str
    order_ref: str
    reverses_id: uuid.UUID | None
    at: datetime
    reason: str


class ConditionOut(BaseModel):
    name: str
    ok: bool
    reason: str


class VerdictOut(BaseModel):
    """What the till would do with a code: ok or the first failed condition, and the discount."""

    ok: bool
    reason: str | None
    message: str
    offer: OfferOut
    conditions: list[ConditionOut]
    discount_minor: int
    currency: str
    uses_left: int | None


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    active: bool


class DeliveryOut(BaseModel):
    id: uuid.UUID  # the `webhook-id` header of every try
    event: str
    status: str
    attempts: int
    last_error: str
    response_code: int | None = None  # the receiver's HTTP status on the last attempt
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


class WebhookCreated(BaseModel):
    id: uuid.UUID
    url: str
    secret: str  # shown once


class PrintJobOut(BaseModel):
    id: uuid.UUID
    offer_id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    done: int = Field(description="coupons rendered so far")
    total: int = Field(description="coupons in the print; 0 until the job starts")
    layout: str
    locale: str
    next_after: str | None = Field(description="start the next print after this code")
    error: str
    pdf_bytes: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status_url: str
    file_url: str | None = Field(description="the PDF, once the job is done")


class EmailsSent(BaseModel):
    """What one run of e-mailing codes did (re-runs send only to the new)."""

    sent: int
    already_sent: int
    skipped_no_consent: int
    skipped_no_email: int
    skipped_no_code: int
    held_out: int  # customers in the campaign's holdout: no code, no message


class StatementPartner(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class StatementLine(BaseModel):
    date: date  # in the viewer's time zone
    at: datetime
    kind: str  # sale, lead, click, staff_reward, fixed_fee
    offer: str
    order_minor: int | None  # the redemption's order (negative for a reversal)
    amount_minor: int  # signed: a reversal carries the negative
    currency: str
    direction: str  # receivable | payable
    staff_user_id: uuid.UUID | None


class StatementTotal(BaseModel):
    currency: str
    receivable_minor: int
    payable_minor: int
    net_minor: int


class RedemptionFlow(BaseModel):
    issuer_business_id: uuid.UUID
    honouring_business_id: uuid.UUID
    currency: str
    count: int  # redemptions minus reversals
    order_minor: int


class BarterBalance(BaseModel):
    redemptions: list[RedemptionFlow]
    deliveries: list[dict[str, Any]]  # per agreement, as /partnerships/{id}/reciprocity


class StatementOut(BaseModel):
    """What each side owes the other in the period, per currency (never summed across)."""

    business_id: uuid.UUID
    partner: StatementPartner
    timezone: str  # the days are the agreement's proposer's, so both sides see the same
    start: date
    end: date
    lines: list[StatementLine]
    next_cursor: str | None
    totals: list[StatementTotal]
    reciprocity: BarterBalance | None
