"""Who is asking and with which role: core types every capability may import.

They live here, below every capability, so that accounts, businesses and the web layer can all
use them without importing each other.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    owner = "owner"
    manager = "manager"
    cashier = "cashier"

    @property
    def rank(self) -> int:
        return {"cashier": 1, "manager": 2, "owner": 3}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user (roles per workspace) or an API key (one business)."""

    user_id: uuid.UUID | None = None
    roles: dict[uuid.UUID, Role] = field(default_factory=dict)
    key_business_id: uuid.UUID | None = None
    key_role: Role | None = None
    key_id: uuid.UUID | None = None

    @property
    def caller(self) -> str:
        """A stable name for audit logs, idempotency scopes and rate limits."""
        if self.key_id is not None:
            return f"key:{self.key_id}"
        if self.key_business_id is not None:
            return f"operator:{self.key_business_id}"
        return f"user:{self.user_id}"

    def role_for(self, workspace_id: uuid.UUID, business_id: uuid.UUID) -> Role | None:
        if self.key_business_id is not None:
            return self.key_role if business_id == self.key_business_id else None
        return self.roles.get(workspace_id)

    @property
    def workspace_ids(self) -> list[uuid.UUID]:
        return list(self.roles)
