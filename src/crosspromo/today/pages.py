"""The owner's "Today" panel on the dashboard: what waits for an answer, what runs, what is due."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from crosspromo import clock
from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import service as businesses
from crosspromo.campaigns import service as campaigns
from crosspromo.offers import statements
from crosspromo.partnerships import service as partnerships
from crosspromo.pipeline import service as pipeline
from crosspromo.web.deps import Db, SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/b/{business_id}/today")
def today(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
    """A partial loaded into the dashboard (htmx), so the figures above render at once."""
    waiting = partnerships.awaiting_answer(db, web.actor, business_id=business.id)
    others = {p.from_business_id for p in waiting} | {p.to_business_id for p in waiting}
    names = {b.id: b.name for b in businesses.by_ids(db, others)}
    listed = campaigns.list_for(db, web.actor, business_id=business.id, limit=50)
    running = [(c, campaigns.progress(db, c.id)) for c in listed if c.stage.value == "running"]
    due, _ = pipeline.due_follow_ups(db, web.actor, business.id, limit=10)
    # Money owed each way this month so far, from the statements.
    today = clock.local_today(business)
    balances = statements.owed(db, business, today.replace(day=1), today)
    partners = {b.id: b for b in businesses.by_ids(db, {o.partner_id for o in balances})}
    return page(
        request,
        web,
        "today/_panel.html",
        business=business,
        waiting=waiting,
        names=names,
        running=running,
        due=due,
        unread=web.unread,
        balances=balances,
        partners=partners,
        month_start=today.replace(day=1),
    )
