"""JSON API under /api/v1/notifications: the signed-in person's notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crosspromo import paging
from crosspromo.accounts.models import User
from crosspromo.errors import Forbidden
from crosspromo.fields import Input
from crosspromo.notifications import service
from crosspromo.paging import Page
from crosspromo.web.deps import ApiActor, Db
from crosspromo.web.query import Cursor

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


class ReadIn(Input):
    model_config = ConfigDict(extra="forbid")
    ids: Annotated[list[uuid.UUID], Field(max_length=1000)] | None = None


def _user(db: Db, actor: Any) -> User:
    user = db.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise Forbidden("Notifications belong to people; an API key has none.")
    return user


class NotificationOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    kind: str
    text: str
    params: dict[str, Any]
    link: str
    created_at: datetime
    read: bool


class NotificationsPage(Page[NotificationOut]):
    unread: int


@router.get("", response_model=NotificationsPage)
def list_notifications(
    actor: ApiActor,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> NotificationsPage:
    """The caller's notifications, newest first; pass `next_cursor` back for the next page."""
    user = _user(db, actor)
    locale = user.locale or "en"
    rows = service.for_user(db, user.id, limit=limit + 1, cursor=cursor)
    found, following = paging.page(rows, limit, lambda n: (n.created_at, n.id))
    return NotificationsPage(
        unread=service.unread(db, user.id),
        items=[
            NotificationOut(
                id=n.id,
                business_id=n.business_id,
                kind=n.kind,
                text=service.text(n.kind, n.params, locale),
                params=n.params,
                link=n.link,
                created_at=n.created_at,
                read=n.read_at is not None,
            )
            for n in found
        ],
        next_cursor=following,
    )


class ReadOut(BaseModel):
    marked: int
    unread: int


@router.post("/read", response_model=ReadOut)
def mark_read(actor: ApiActor, db: Db, body: ReadIn) -> dict[str, int]:
    """Mark all (or the given) notifications read."""
    user = _user(db, actor)
    changed = service.mark_read(db, user.id, body.ids)
    return {"marked": changed, "unread": service.unread(db, user.id)}
