"""Pages: a business's campaigns, a new campaign under an agreement, one campaign's plan."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts import service as accounts
from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.campaigns import service
from crosspromo.campaigns.auth import MemberCampaignPage
from crosspromo.campaigns.models import GoalKind, Metric, Stage, TaskStatus
from crosspromo.campaigns.schemas import (
    Analysis,
    BudgetIn,
    CampaignCreate,
    CampaignUpdate,
    MemberIn,
    StageMove,
    TaskIn,
    TaskUpdate,
)
from crosspromo.errors import DomainError
from crosspromo.offers import referrals
from crosspromo.offers import service as offers
from crosspromo.offers.print_pool import SMALL as SMALL_PRINT  # more: a background print job
from crosspromo.offers.schemas import CodesCreate, OfferCreate
from crosspromo.partnerships import service as partnerships
from crosspromo.web import flash
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid
from crosspromo.web.forms import PostedForm, errors_of, minor_units
from crosspromo.web.i18n import N_, NO_CURRENCY

router = APIRouter(include_in_schema=False)

LABELS = {
    "preparation": N_("Preparation"),
    "agreed": N_("Agreed"),
    "running": N_("Running"),
    "results": N_("Results"),
    "closed": N_("Closed"),
    "revenue": N_("Revenue"),
    "receipts": N_("Receipts"),
    "average_check": N_("Average check"),
    "customers": N_("Customers"),
    "increase_by": N_("Increase by"),
    "increase_percent": N_("Increase by percent"),
    "reach": N_("Reach"),
    "materials": N_("Materials"),
    "discounts": N_("Discounts"),
    "bonus_products": N_("Bonus products"),
    "staff_hours": N_("Staff hours"),
    "advertising": N_("Advertising"),
    "other": N_("Other"),
    "todo": N_("To do"),
    "doing": N_("Doing"),
    "done": N_("Done"),
    "goal": N_("a goal"),
    "dates": N_("dates"),
    "budget": N_("a budget"),
    "plan": N_("a plan"),
    "launch": N_("Launch"),
}
PLAN_PAGE = 300  # tasks shown on the campaign page, by due date
ITEMS = ("materials", "discounts", "bonus_products", "staff_hours", "advertising", "other")


def _goal_input(campaign: Any) -> str:
    """The stored goal target as typed into the form (the inverse of service._target_units)."""
    if not campaign.goal_target or campaign.goal_kind is None:
        return ""
    if campaign.goal_kind is GoalKind.increase_percent:
        scale = 2  # basis points
    elif campaign.goal_metric in service.MONEY:
        scale = get_currency_precision(campaign.currency or NO_CURRENCY)
    else:
        scale = 0
    return f"{Decimal(campaign.goal_target).scaleb(-scale).normalize():f}"


def _blank_none(form: dict[str, str], *names: str) -> dict[str, Any]:
    return {n: (form.get(n) or None) for n in names if n in form}


@router.get("/b/{business_id}/campaigns")
def campaigns(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
    return _list(request, business, web, db)


def _list(
    request: Request,
    business: Business,
    web: Any,
    db: Db,
    errors: Sequence[str] | None = None,
    status: int = 200,
) -> Response:
    found = service.list_for(db, web.actor, business_id=business.id, limit=100)
    agreements = [
        p
        for p in partnerships.list_for(db, web.actor, business_id=business.id, limit=200)
        if partnerships.is_agreed(p)
    ]
    names = {
        b.id: b.name
        for b in businesses.by_ids(
            db, {p.from_business_id for p in agreements} | {p.to_business_id for p in agreements}
        )
    }
    return page(
        request,
        web,
        "campaigns/list.html",
        status=status,
        errors=errors or [],
        business=business,
        campaigns=found,
        agreements=agreements,
        names=names,
        labels=LABELS,
    )


@router.post("/b/{business_id}/campaigns", dependencies=[Csrf])
def create(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, posted: PostedForm
) -> Response:
    form = {k: str(v) for k, v in posted.items()}
    try:
        data = CampaignCreate.model_validate(
            {
                "proposal_id": form.get("proposal_id", ""),
                "title": form.get("title", ""),
                **_blank_none(form, "starts_on", "ends_on"),
            }
        )
        campaign = service.create(db, web.actor, business_id=business.id, data=data)
    except (ValidationError, DomainError) as exc:
        db.rollback()
        status = 422 if isinstance(exc, ValidationError) else exc.status
        return _list(request, business, web, db, errors_of(exc), status)
    return RedirectResponse(f"/b/{business.id}/campaigns/{campaign.id}", status_code=303)


def _show(
    request: Request,
    web: Any,
    db: Db,
    business: Business,
    campaign_id: str,
    status: int = 200,
    errors: Sequence[str] | None = None,
    failed: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    """The campaign page; after a refusal, `failed` names the form and `typed` its values."""
    campaign, mine = service.get(db, web.actor, parse_uuid(campaign_id))
    if mine.id != business.id:
        return RedirectResponse(f"/b/{mine.id}/campaigns/{campaign.id}", status_code=303)
    members = businesses.by_ids(db, set(service.member_ids(db, campaign.id)))
    people = {
        m.id: [
            (u.id, u.name or u.email) for u, _ in accounts.members(db, workspace_id=m.workspace_id)
        ]
        for m in members
    }
    person = {uid: label for group in people.values() for uid, label in group}
    progress = service.progress(db, campaign.id)
    listed = offers.offers_of(db, campaign.id)
    by_side = service.budget_by_side(db, campaign.id)
    return page(
        request,
        web,
        "campaigns/show.html",
        status=status,
        business=business,
        campaign=campaign,
        members=members,
        names={m.id: m.name for m in members},
        people=people,
        person=person,
        progress=progress,
        budget=service.budget(db, campaign.id),
        by_side=by_side,
        tasks=service.tasks(db, campaign.id, limit=PLAN_PAGE),
        missing=service.missing(db, campaign, counts=progress, by_side=by_side),
        snapshots=service.snapshots(db, campaign.id),
        offers=listed,
        links=referrals.links_of(db, [o.id for o in listed], request.app.state.settings.public_url),
        code_counts=offers.code_counts(db, campaign.id),
        small_print=SMALL_PRINT,
        outcome=service.outcome(db, campaign),
        goal_input=_goal_input(campaign),
        moves=sorted(service.MOVES[campaign.stage], key=list(Stage).index),
        stages=list(Stage),
        metrics=list(Metric),
        kinds=list(GoalKind),
        statuses=list(TaskStatus),
        items=ITEMS,
        labels=LABELS,
        today=date.today(),
        errors=errors or [],
        failed=failed,
        typed=typed or {},
    )


@router.get("/b/{business_id}/campaigns/{campaign_id}")
def show(
    request: Request,
    business: ManagerBusinessPage,
    campaign: MemberCampaignPage,
    web: SignedIn,
    db: Db,
) -> Response:
    return _show(request, web, db, business, str(campaign.id))


def _act(db: Db, web: Any, action: str, cid: Any, form: dict[str, str]) -> None:
    actor = web.actor
    if action == "details":
        raw: dict[str, Any] = _blank_none(
            form,
            "title",
            "starts_on",
            "ends_on",
            "goal_metric",
            "goal_kind",
            "goal_target",
            "goal_deadline",
            "goal_business_id",
        )
        service.update_campaign(db, actor, cid, CampaignUpdate.model_validate(raw))
    elif action == "budget":
        raw = {
            "business_id": form.get("business_id", ""),
            "item": form.get("item", ""),
            "description": form.get("description", ""),
            "currency": form.get("currency", ""),
            **_blank_none(form, "hours"),
        }
        if form.get("item") == "staff_hours":
            raw["hourly_cost_minor"] = minor_units(
                form.get("hourly_cost", ""), raw["currency"], "hourly_cost"
            )
        else:
            raw["amount_minor"] = minor_units(form.get("amount", ""), raw["currency"])
        service.add_budget(db, actor, cid, BudgetIn.model_validate(raw))
    elif action == "remove-budget":
        service.remove_budget(db, actor, cid, parse_uuid(form.get("item_id", "")))
    elif action == "task":
        raw = {
            "business_id": form.get("business_id", ""),
            "title": form.get("title", ""),
            "rehearsal": form.get("rehearsal") == "on",
            **_blank_none(form, "assignee_user_id", "due_on"),
        }
        service.add_task(db, actor, cid, TaskIn.model_validate(raw))
    elif action == "task-status":
        service.update_task(
            db,
            actor,
            cid,
            parse_uuid(form.get("task_id", "")),
            TaskUpdate.model_validate({"status": form.get("status", "")}),
        )
    elif action == "stage":
        service.move(
            db,
            actor,
            cid,
            StageMove.model_validate({"to": form.get("to", ""), "expected": form.get("expected")}),
        )
    elif action == "analysis":
        service.analyse(db, actor, cid, Analysis.model_validate(form))
    elif action == "offer":
        currency = service.get(db, actor, cid)[0].currency
        raw = {
            "issuer_business_id": form.get("issuer_business_id", ""),
            "honouring_business_id": form.get("honouring_business_id", ""),
            "title": form.get("title", ""),
            "benefit": form.get("benefit", ""),
            "item": form.get("item", ""),
            "new_customers_only": form.get("new_customers_only") == "on",
            "needs_partner_card": form.get("needs_partner_card") == "on",
            "code_prefix": form.get("code_prefix", ""),
            **_blank_none(
                form, "percent", "valid_from", "valid_until", "total_limit", "per_customer_limit"
            ),
        }
        if form.get("amount"):
            raw["amount_minor"] = minor_units(form["amount"], currency)
        if form.get("min_order"):
            raw["min_order_minor"] = minor_units(form["min_order"], currency, "min_order")
        offers.create_offer(db, actor, cid, OfferCreate.model_validate(raw))
    elif action == "codes":
        offers.add_codes(
            db,
            actor,
            parse_uuid(form.get("offer_id", "")),
            CodesCreate.model_validate(
                {
                    "kind": form.get("kind", "unique"),
                    "count": form.get("count") or 1,
                    "text": form.get("text", ""),
                }
            ),
        )
    elif action == "member":
        service.add_member(db, actor, cid, MemberIn(business=form.get("business", "")))
    else:
        raise DomainError("Unknown action.", status=404, kind="not-found", title="Not found")


@router.get("/b/{business_id}/campaigns/{campaign_id}/{action}")
def again(
    business: ManagerBusinessPage, campaign: MemberCampaignPage, web: SignedIn, db: Db
) -> Response:
    """A page that answered a form, opened again (a language switch): the campaign page."""
    target = f"/b/{business.id}/campaigns/{campaign.id}"
    return RedirectResponse(target, status_code=303)


@router.post("/b/{business_id}/campaigns/{campaign_id}/{action}", dependencies=[Csrf])
def act(
    request: Request,
    business: ManagerBusinessPage,
    campaign: MemberCampaignPage,
    action: str,
    web: SignedIn,
    db: Db,
    posted: PostedForm,
) -> Response:
    """Every form on the campaign page posts here with its action."""
    form = {k: str(v) for k, v in posted.items() if k != "csrf_token"}
    try:
        _act(db, web, action, campaign.id, form)
    except (ValidationError, DomainError) as exc:
        db.rollback()
        status = 422 if isinstance(exc, ValidationError) else exc.status
        return _show(
            request, web, db, business, str(campaign.id), status, errors_of(exc), action, form
        )
    anchor = {"task": "#plan", "task-status": "#plan", "budget": "#budget", "offer": "#offers"}
    anchor["codes"] = "#offers"
    target = f"/b/{business.id}/campaigns/{campaign.id}{anchor.get(action, '')}"
    if action == "codes":
        count = form.get("count") or "1"
        return flash.redirect(target, "%(n)s codes added: print them below.", n=count)
    if action in DONE:
        return flash.redirect(target, DONE[action])
    return RedirectResponse(target, status_code=303)


# What the owner is told after each form on the campaign page (the task status is quiet).
DONE = {
    "task": N_("Task added."),
    "budget": N_("Budget line added."),
    "remove-budget": N_("Budget line removed."),
    "stage": N_("Stage changed."),
    "analysis": N_("Saved."),
    "offer": N_("Offer created."),
    "member": N_("Partner added to the campaign."),
}
