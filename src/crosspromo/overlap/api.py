"""JSON API: the visible shared-audience count, and the server side of PSI between installs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.customers import service as customers
from crosspromo.errors import Invalid, NotFound
from crosspromo.overlap import psi, service
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1/overlap", tags=["overlap"])
MAX_REQUEST = 64 << 20  # a PSI request for a few million identifiers


@router.get("")
def visible(
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    other: Annotated[str, Query(description="id (slug) of the other business")],
) -> dict[str, Any]:
    """Shared customers with another business: only if both allow it, rounded, never a list."""
    mine = businesses.get(db, actor, parse_uuid(business_id), need=Role.manager)
    theirs = businesses.get_by_slug(db, other.strip().lower())
    if theirs is None:
        raise NotFound("No business with that id.", field="other")
    found = service.visible_overlap(db, a=mine, b=theirs)
    return {
        "other": theirs.slug,
        "shown": found.shown,
        "suppressed": found.suppressed,
        "k": found.k,
        "rounding": found.rounding,
        "reason": found.reason,
    }


async def _body(request: Request) -> bytes:
    """The raw request body, read on the event loop; the handler runs in the thread pool."""
    return await request.body()


@router.post("/psi", response_class=Response)
def psi_respond(
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    body: Annotated[bytes, Depends(_body)],
) -> Response:
    """Answer another install's PSI request over this business's identifiers (size only).

    Send the request bytes as the body (application/octet-stream) with an API key of this
    business. Neither side learns the other's customers; the client learns the intersection
    size and the size of this set.
    """
    mine = businesses.get(db, actor, parse_uuid(business_id), need=Role.manager)
    if not body or len(body) > MAX_REQUEST:
        raise Invalid("Send a PSI request (at most 64 MB) as the body.", field="body")
    items = customers.identifiers(db, business_id=mine.id)
    if not items:
        raise Invalid("This business has no customers to compare.", field="business_id")
    return Response(psi.respond(items, body), media_type="application/octet-stream")
