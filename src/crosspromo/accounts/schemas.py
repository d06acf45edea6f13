"""API shapes for accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crosspromo.accounts.models import Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: str = Field(default="", max_length=200)


class ApiKeyOut(BaseModel):
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


class Me(BaseModel):
    user_id: uuid.UUID | None
    email: str | None
    api_key_business_id: uuid.UUID | None
    roles: dict[str, Role]
