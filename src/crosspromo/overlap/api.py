"""JSON API: the visible shared-audience count, and the server side of PSI between installs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.customers import service as customers
from crosspromo.errors import Invalid, NotFound, TooLarge
from crosspromo.overlap import psi, service
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1/overlap", tags=["overlap"])


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


async def psi_body(request: Request) -> bytes:
    """The request body, refused with 413 past the limit before more of it is read."""
    limit = request.app.state.settings.psi_max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"A PSI request may hold at most {limit:,} bytes.", field="body")
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a missing or false Content-Length: stop at the limit
            raise TooLarge(f"A PSI request may hold at most {limit:,} bytes.", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/psi", response_class=Response)
def psi_respond(
    actor: ApiActor,
    db: Db,
    business_id: Annotated[str, Query()],
    body: Annotated[bytes, Depends(psi_body)],
) -> Response:
    """Answer another install's PSI request over this business's identifiers (size only).

    Send the request bytes as the body (application/octet-stream) with an API key of this
    business. Neither side learns the other's customers; the client learns the intersection
    size and the size of this set. A plain `def`: the encryption runs in the thread pool,
    off the event loop.
    """
    mine = businesses.get(db, actor, parse_uuid(business_id), need=Role.manager)
    if not body:
        raise Invalid("Send a PSI request as the body.", field="body")
    items = customers.identifiers(db, business_id=mine.id)
    if not items:
        raise Invalid("This business has no customers to compare.", field="business_id")
    return Response(psi.respond(items, body), media_type="application/octet-stream")
