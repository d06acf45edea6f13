"""JSON API under /api/v1/notifications: the signed-in person's notifications."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from crosspromo.accounts.models import User
from crosspromo.errors import Forbidden
from crosspromo.fields import Input
from crosspromo.notifications import service
from crosspromo.web.deps import ApiActor, Db

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


class ReadIn(Input):
    model_config = ConfigDict(extra="forbid")
    ids: Annotated[list[uuid.UUID], Field(max_length=1000)] | None = None


def _user(db: Db, actor: Any) -> User:
    user = db.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise Forbidden("Notifications belong to people; an API key has none.")
    return user


@router.get("")
def list_notifications(
    actor: ApiActor, db: Db, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    user = _user(db, actor)
    locale = user.locale or "en"
    return {
        "unread": service.unread(db, user.id),
        "items": [
            {
                "id": str(n.id),
                "business_id": str(n.business_id),
                "kind": n.kind,
                "text": service.text(n.kind, n.params, locale),
                "params": n.params,
                "link": n.link,
                "created_at": n.created_at.isoformat(),
                "read": n.read_at is not None,
            }
            for n in service.for_user(db, user.id, limit=limit)
        ],
    }


@router.post("/read")
def mark_read(actor: ApiActor, db: Db, body: ReadIn) -> dict[str, int]:
    """Mark all (or the given) notifications read."""
    user = _user(db, actor)
    changed = service.mark_read(db, user.id, body.ids)
    db.commit()
    return {"marked": changed, "unread": service.unread(db, user.id)}
