"""Shapes of offers, codes, validations, redemptions and reversals."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Day, Input, Int, Minor
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
            raise ValueError("valid_until is before valid_from")
        if self.hour_until <= self.hour_from:
            raise ValueError("hour_until must be after hour_from")
        if self.benefit is Benefit.percent and self.percent is None:
            raise ValueError("a percent discount needs percent")
        if self.benefit in (Benefit.fixed, Benefit.bundle_price) and self.amount_minor is None:
            raise ValueError("this benefit needs amount_minor")
        if self.benefit in (Benefit.gift, Benefit.free_item) and not self.item:
            raise ValueError("name the gift or free item in item")
        if self.issuer_business_id == self.honouring_business_id:
            raise ValueError("the issuer and the honouring business must differ")
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


class ReversalIn(Input):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500), PLAIN_TEXT]


class WebhookIn(Input):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=8, max_length=500, pattern=r"^https?://"), ONE_LINE]
