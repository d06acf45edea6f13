"""Validated shapes of a business profile, shared by the API, the pages and imports."""

from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlparse
from zoneinfo import available_timezones

import phonenumbers
from babel.numbers import list_currencies
from pydantic import ConfigDict, Field, field_validator, model_validator

from crosspromo.businesses import categories
from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Input, Int
from crosspromo.identifiers import IdentifierError, normalize_email, normalize_phone

MAX_MINOR = 10**11  # a billion in major units: anything above is a typo, not a price
MAX_AUDIENCE = 10**9
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$")

Name = Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
Code = Annotated[str, Field(max_length=64), ONE_LINE]
Audience = Annotated[Int, Field(ge=0, le=MAX_AUDIENCE)]


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def _countries() -> frozenset[str]:
    # Babel also lists pseudo-regions (ZZ unknown, EU, UN); phonenumbers knows real ones only.
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_category(value: str) -> str:
    value = value.strip()
    if not categories.exists(value):
        raise ValueError(f"unknown category {value!r}; use a code such as shop=bakery")
    return value


def check_currency(value: str) -> str:
    value = value.strip().upper()
    if value not in _currencies():
        raise ValueError(f"unknown ISO 4217 currency {value!r}")
    return value


def check_website(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or "." not in (parsed.hostname or ""):
        raise ValueError("not a web address")
    return value


def check_slug(value: str) -> str:
    value = value.strip().lower()
    if not SLUG.match(value):
        raise ValueError("use 1-64 lower-case letters, digits and dashes")
    return value


class ProfileFields(Input):
    """Every editable field; all optional so one shape serves create and partial update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    category: Code | None = None
    price_tier: Annotated[Int, Field(ge=1, le=4)] | None = None
    avg_check_minor: Annotated[Int, Field(ge=0, le=MAX_MINOR)] | None = None
    currency: Code | None = None
    country: Code | None = None
    timezone: Code | None = None
    address: Annotated[str, Field(max_length=300), ONE_LINE] | None = None
    city: Annotated[str, Field(max_length=100), ONE_LINE] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    phone: Annotated[str, Field(max_length=40), ONE_LINE] | None = None
    email: Annotated[str, Field(max_length=254), ONE_LINE] | None = None
    website: Annotated[str, Field(max_length=300), ONE_LINE] | None = None
    customers_per_month: Audience | None = None
    newsletter_subscribers: Audience | None = None
    social_followers: Audience | None = None
    site_visitors_per_month: Audience | None = None
    description: Annotated[str, Field(max_length=5000), PLAIN_TEXT] | None = None
    tags: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=40), ONE_LINE]],
            Field(max_length=20),
        ]
        | None
    ) = None
    online_only: bool | None = None
    open_to_partnerships: bool | None = None
    allow_overlap_discovery: bool | None = None
    margin_bp: (
        Annotated[int, Field(ge=0, le=10_000, description="gross margin, 3000 = 30 %")] | None
    ) = None

    @field_validator("category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        return None if v is None else check_category(v)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return None if v is None else check_currency(v)

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip().upper()
        if v not in _countries():
            raise ValueError(f"unknown ISO 3166 country code {v!r}")
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        if v is not None and v not in _timezones():
            raise ValueError(f"unknown time zone {v!r}")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if not v:
            return v
        try:
            return normalize_email(v)
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("website")
    @classmethod
    def _website(cls, v: str | None) -> str | None:
        return None if v is None else check_website(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        seen: dict[str, None] = {}
        for tag in v:
            seen.setdefault(tag.strip().lower(), None)
        return list(seen)

    def normalized_phone(self, default_country: str) -> str | None:
        """The phone in E.164, read in the profile's (or the given) country."""
        if self.phone is None:
            return None
        if not self.phone:
            return ""
        return normalize_phone(self.phone, self.country or default_country)


class BusinessCreate(ProfileFields):
    slug: Code | None = None
    name: Name
    category: Code

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str | None) -> str | None:
        return None if v is None else check_slug(v)


class BusinessUpdate(ProfileFields):
    # When the zone changes and receipts were imported as dates only (local midnights):
    # keep their instants, or read their dates again in the new zone. Not stored.
    date_only_receipts: Literal["keep", "reinterpret"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls_for_required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("name", "category", "price_tier", "currency", "country", "timezone"):
                if key in data and data[key] is None:
                    raise ValueError(f"{key} cannot be empty")
        return data


class BusinessOut(Input):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workspace_id: uuid.UUID
    slug: str
    name: str
    category: str
    category_name: str = ""
    price_tier: int
    avg_check_minor: int | None
    currency: str
    country: str
    timezone: str
    address: str
    city: str
    lat: float | None
    lon: float | None
    phone: str
    email: str
    website: str
    customers_per_month: int | None
    newsletter_subscribers: int | None
    social_followers: int | None
    site_visitors_per_month: int | None
    description: str
    tags: list[str]
    online_only: bool
    open_to_partnerships: bool
    allow_overlap_discovery: bool
