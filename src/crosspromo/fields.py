"""Typed fields for every API shape: bounded strict integers, amounts, dates, plain text.

Every integer that reaches the database fits a signed 64-bit column (PostgreSQL refuses more;
SQLite raises OverflowError), and every text refuses control characters (PostgreSQL refuses
NUL; SQLite would store it silently), so both engines answer bad input alike: 422, never 500.
JSON bodies are strict: `true` and `"100"` are not integers. Query strings are text by
nature, so their integers are parsed but bounded the same way.
"""

from __future__ import annotations

import re
import unicodedata
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

from crosspromo import locale_input

INT64_MAX = 2**63 - 1
# Text may carry tab and line breaks (browsers send CR LF from a textarea); a line may not.
TEXT_ALLOWED = frozenset("\t\n\r")
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def control_character(value: str, allowed: frozenset[str] = TEXT_ALLOWED) -> str | None:
    """The first control character (C0, DEL, C1) or lone surrogate in `value`, if any."""
    for char in value:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in "\u2028\u2029":
            return char
    return None


def _text(value: str) -> str:
    if (char := control_character(value)) is not None:
        raise ValueError(f"control character U+{ord(char):04X} is not allowed")
    return value


def _line(value: str) -> str:
    if (char := control_character(value, frozenset("\t"))) is not None:
        raise ValueError(f"control character U+{ord(char):04X} is not allowed in one line")
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"give a date between {FIRST_DAY} and {LAST_DAY}")
    return value


def _instant(value: datetime) -> datetime:
    _day(value.date())
    return value


# Put these after the length, so the length is checked as a string's:
# `Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]`.
PLAIN_TEXT = AfterValidator(_text)
ONE_LINE = AfterValidator(_line)
Text = Annotated[str, PLAIN_TEXT]
Line = Annotated[str, ONE_LINE]

# Page forms carry every value as text, so there (and only there) an integer may arrive as
# digits: the app-wide guard (web/plain_input.py) marks form requests, and `Input` models
# read digits as integers for their integer fields then. JSON stays strict.
form_input: ContextVar[bool] = ContextVar("form_input", default=False)
DIGITS = re.compile(r"-?[0-9]{1,19}")


def _shape(annotation: Any) -> str | None:
    """What a form's text becomes for this field: "int", "ints" (a list), "decimal", "date"."""
    origin = get_origin(annotation)
    if annotation is int:
        return "int"
    if annotation is Decimal:
        return "decimal"
    if annotation is date:
        return "date"
    if origin is Annotated:
        return _shape(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return next((s for a in get_args(annotation) if (s := _shape(a))), None)
    if origin is list and get_args(annotation):
        return "ints" if _shape(get_args(annotation)[0]) == "int" else None
    return None


def _digits(value: Any) -> Any:
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return value


def _typed(value: Any, reader: Any) -> Any:
    """A value as people type it (10,5; 3 000,50; 20.11.2026); unreadable text is left for
    the field's own validation to refuse with its usual error."""
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        return reader(value)
    except locale_input.InputError:
        return value


class Input(BaseModel):
    """The base of every request shape: strict JSON; from page forms, digits for integers and
    numbers and dates as people type them (crosspromo.locale_input)."""

    @model_validator(mode="before")
    @classmethod
    def _form_digits(cls, data: Any) -> Any:
        if not form_input.get() or not isinstance(data, dict):
            return data
        data = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            shape = _shape(field.annotation) if key in data else None
            if shape == "int":
                data[key] = _digits(data[key])
            elif shape == "ints" and isinstance(data[key], list):
                data[key] = [_digits(v) for v in data[key]]
            elif shape == "decimal":
                data[key] = _typed(data[key], locale_input.parse_amount)
            elif shape == "date":
                data[key] = _typed(data[key], locale_input.parse_date)
        return data


def wrong(field: str, reason: str) -> PydanticCustomError:
    """A model-level rule's refusal that names its field (web/validation.py reads it)."""
    return PydanticCustomError("field_rule", reason, {"field": field})


# Every integer is strict (`true`, `1.0`, `"100"` refused) and fits 64 bits even where a
# schema forgets its own bound: `Annotated[Int, Field(ge=0, le=6)]` narrows it.
Int = Annotated[int, Strict(), Field(ge=-(2**63), le=INT64_MAX)]
MAX_MINOR = 10**13  # minor units: 100 billion in major units is a typo, not an amount
Minor = Annotated[Int, Field(ge=0, le=MAX_MINOR)]
Count = Annotated[Int, Field(ge=0, le=10**9)]
Version = Annotated[Int, Field(ge=1, le=2**31 - 1)]
Day = Annotated[date, AfterValidator(_day)]
Instant = Annotated[AwareDatetime, AfterValidator(_instant)]

# Query parameters are text by nature: parsed, then bounded like the body fields.
PAGE_MAX = 5_000
OFFSET_MAX = 10**6
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="offset of the next page")]
