"""The webhooks page: each endpoint's delivery log, and a delivery sent again on request."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from crosspromo import paging
from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.errors import Conflict
from crosspromo.offers import webhooks
from crosspromo.web import flash
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid
from crosspromo.web.i18n import N_
from crosspromo.web.query import Cursor

router = APIRouter(include_in_schema=False)

# Deliveries shown per endpoint on the overview, and per page of one endpoint's log.
LATEST = 10
PER_PAGE = 50
STATUSES = {
    "pending": N_("Waiting to send"),
    "sent": N_("Delivered to the receiver"),
    "skipped": N_("Skipped"),
    "dead": N_("Gave up"),
}


@router.get("/b/{business_id}/webhooks")
def overview(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
    """Every endpoint of the business with its latest deliveries."""
    logs = []
    for endpoint in webhooks.endpoints_of(db, business):
        rows = webhooks.deliveries(db, endpoint, limit=LATEST + 1)
        logs.append((endpoint, rows[:LATEST], len(rows) > LATEST))
    return page(
        request,
        web,
        "offers/webhooks.html",
        business=business,
        logs=logs,
        statuses=STATUSES,
        endpoint=None,
        next_cursor=None,
    )


@router.get("/b/{business_id}/webhooks/{endpoint_id}")
def log(
    request: Request,
    business: ManagerBusinessPage,
    endpoint_id: str,
    web: SignedIn,
    db: Db,
    cursor: Cursor = None,
) -> Response:
    """One endpoint's whole delivery log, newest first, a page at a time."""
    endpoint = webhooks.endpoint_of(db, business, parse_uuid(endpoint_id))
    rows = webhooks.deliveries(db, endpoint, limit=PER_PAGE + 1, cursor=cursor)
    found, following = paging.page(rows, PER_PAGE, webhooks.delivery_key)
    return page(
        request,
        web,
        "offers/webhooks.html",
        business=business,
        logs=[(endpoint, found, False)],
        statuses=STATUSES,
        endpoint=endpoint,
        next_cursor=following,
    )


@router.post(
    "/b/{business_id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    dependencies=[Csrf],
)
def redeliver(
    business: ManagerBusinessPage, endpoint_id: str, delivery_id: str, web: SignedIn, db: Db
) -> Response:
    """Queue the delivery again with the same `webhook-id`; back to the endpoint's log."""
    endpoint = webhooks.endpoint_of(db, business, parse_uuid(endpoint_id))
    back = f"/b/{business.id}/webhooks/{endpoint.id}"
    try:
        webhooks.redeliver(db, endpoint, parse_uuid(delivery_id))
    except Conflict as exc:
        return flash.redirect(back, exc.detail, error=True)
    return flash.redirect(back, "The delivery will be sent again in a moment.")
