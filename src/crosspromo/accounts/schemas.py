"""API shapes for accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from crosspromo.accounts.models import Role
from crosspromo.fields import ONE_LINE, Input


class ApiKeyCreate(Input):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: Annotated[str, Field(max_length=200), ONE_LINE] = ""


class ApiKeyOut(Input):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    business_id: uuid.UUID
    role: Role
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key. Shown once; store it now.")


class Me(Input):
    user_id: uuid.UUID | None
    email: str | None
    api_key_business_id: uuid.UUID | None
    roles: dict[str, Role]


class InvitationCreate(Input):
    model_config = ConfigDict(extra="forbid")
    role: Role = Role.cashier
    email: Annotated[str, Field(max_length=254), ONE_LINE] = ""


class InvitationOut(Input):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    role: Role
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationOut):
    link: str = Field(description="shown once: the link to send to the person")
