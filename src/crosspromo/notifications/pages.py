"""The notifications page: what happened, newest first, with links."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.businesses import service as businesses
from crosspromo.notifications import service
from crosspromo.web.deps import Csrf, Db, SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/notifications")
def notifications(request: Request, web: SignedIn, db: Db) -> Response:
    assert web.user is not None
    found = service.for_user(db, web.user.id, limit=100)
    zones = {b.id: b.timezone for b in businesses.by_ids(db, {n.business_id for n in found})}
    return page(
        request, web, "notifications/list.html", items=found, text=service.text, zones=zones
    )


@router.post("/notifications/read", dependencies=[Csrf])
def read_all(web: SignedIn, db: Db) -> Response:
    assert web.user is not None
    service.mark_read(db, web.user.id)
    return RedirectResponse("/notifications", status_code=303)
