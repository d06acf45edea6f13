"""Shapes of contacts, consents, suppressions and messages in the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from crosspromo.fields import ONE_LINE, PLAIN_TEXT, Input, Int
from crosspromo.messaging.audiences import Rules
from crosspromo.messaging.models import Channel, Reason, ReminderKind

Line = Annotated[str, ONE_LINE]
Text = Annotated[str, PLAIN_TEXT]


class ContactIn(Input):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[Line, Field(max_length=200)] = ""
    email: Annotated[Line, Field(max_length=254)] = ""
    phone: Annotated[Line, Field(max_length=40)] = ""
    telegram_chat_id: Annotated[Line, Field(max_length=20)] = ""
    locale: Literal["en", "ru"] = "en"
    timezone: Annotated[
        Line, Field(max_length=64, description="IANA zone; blank: the phone's, else the business's")
    ] = ""


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    email: str
    phone: str
    telegram_chat_id: str | None
    locale: str
    timezone: str | None
    email_consent: bool
    sms_consent: bool
    telegram_consent: bool
    created_at: datetime


class ConsentIn(Input):
    """What the person agreed to, where and when: kept word for word as evidence."""

    model_config = ConfigDict(extra="forbid")
    channel: Channel
    granted: bool
    source: Annotated[Line, Field(min_length=1, max_length=100)]
    wording: Annotated[Text, Field(max_length=2000)] = ""
    given_at: datetime | None = None


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    channel: Channel
    granted: bool
    given_at: datetime
    source: str
    wording: str


class SuppressionIn(Input):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    address: Annotated[Line, Field(min_length=1, max_length=254)]
    reason: Reason


class PreferencesIn(Input):
    model_config = ConfigDict(extra="forbid")
    weekly_cap: Annotated[Int | None, Field(ge=1, le=100)] = None
    partner_share_bp: Annotated[Int, Field(ge=0, le=5000)] = 2000
    # Local hours of each recipient; both null: the platform's default (21 to 9).
    quiet_from: Annotated[Int | None, Field(ge=0, le=23)] = None
    quiet_until: Annotated[Int | None, Field(ge=0, le=23)] = None


class Parts(Input):
    model_config = ConfigDict(extra="forbid")
    subject: Annotated[Line, Field(max_length=200)] = ""
    text: Annotated[Text, Field(max_length=100_000)] = ""
    # Past this an e-mail is refused: images belong on a server, linked, not embedded.
    html: Annotated[Text, Field(max_length=500_000)] = ""


class BroadcastIn(Input):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    content: dict[Literal["en", "ru"], Parts]
    partner_business_id: uuid.UUID | None = None
    audience_id: uuid.UUID | None = Field(
        default=None, description="a saved audience; none: every consenting contact"
    )


class BroadcastOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    channel: Channel
    status: str
    recipients: int
    partner_business_id: uuid.UUID | None
    audience_id: uuid.UUID | None
    created_at: datetime
    queued_at: datetime | None
    results: dict[str, int] = {}


class Queued(BaseModel):
    recipients: int


class Preview(BaseModel):
    """The message as one contact would get it, in each language written."""

    rendered: dict[str, dict[str, str]]


class MentionParts(Input):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[Text, Field(min_length=1, max_length=10_000)]
    html: Annotated[Text, Field(max_length=100_000)] = ""


class MentionIn(Input):
    """A partner's mention for the host's newsletter."""

    model_config = ConfigDict(extra="forbid")
    host_business_id: uuid.UUID
    content: dict[Literal["en", "ru"], MentionParts]


class MentionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    host_business_id: uuid.UUID
    partner_business_id: uuid.UUID
    content: dict[str, dict[str, str]]
    status: str
    broadcast_id: uuid.UUID | None
    created_at: datetime


class Decision(Input):
    model_config = ConfigDict(extra="forbid")
    approve: bool


class SuccessBlockOut(BaseModel):
    """The embeddable success-page block of a referral link."""

    url: str = Field(description="the framable page the snippet shows")
    snippet: str = Field(description="HTML to paste on the order-confirmation page")


class AudienceIn(Input):
    """A saved audience: its name and rules (every rule given must hold)."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    rules: Rules


class AudienceSizes(BaseModel):
    """Contacts the rules match now, and of them those consenting on each channel."""

    contacts: int
    email: int
    sms: int
    telegram: int


class AudienceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    rules: Rules
    created_at: datetime
    updated_at: datetime
    sizes: AudienceSizes | None = None


class ReminderIn(Input):
    """A reminder before a held code or lot of points expires; its message may use
    {{ expires_on }} and (points) {{ points }} besides the usual fields."""

    model_config = ConfigDict(extra="forbid")
    kind: ReminderKind
    channel: Channel
    content: dict[Literal["en", "ru"], Parts]
    days_before: Annotated[Int, Field(ge=1, le=90)]
    holdout_bp: Annotated[Int, Field(ge=0, le=5000)] = 1000


class ReminderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: ReminderKind
    days_before: int
    holdout_bp: int
    active: bool
    broadcast_id: uuid.UUID = Field(description="its message: results at .../messages/{id}")
    created_at: datetime
