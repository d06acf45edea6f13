"""Pages: the pipeline board, an entry with its log, due follow-ups, targets, reciprocity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo import locale_input
from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.auth import PartyProposalPage
from crosspromo.pipeline import service
from crosspromo.pipeline.models import Kind, Stage
from crosspromo.pipeline.schemas import (
    ActivityCreate,
    DeliveryCreate,
    EntryCreate,
    StageMove,
    TargetSet,
)
from crosspromo.roles import Role
from crosspromo.web.deps import Csrf, Db, SignedIn, WebContext, parse_uuid
from crosspromo.web.forms import PostedForm, errors_of, minor_units
from crosspromo.web.i18n import N_

router = APIRouter(include_in_schema=False)


LABELS = {
    "prospect": N_("Prospect"),
    "contacted": N_("Contacted"),
    "meeting": N_("Meeting"),
    "proposal": N_("Proposal"),
    "negotiating": N_("Negotiating"),
    "active": N_("Active"),
    "paused": N_("Paused"),
    "ended": N_("Ended"),
    "call": N_("Call"),
    "note": N_("Note"),
    "email": N_("E-mail"),
    "order": N_("Order"),
    "proposer": N_("Proposer"),
    "partner": N_("Partner"),
    "exchange": N_("Exchange"),
    "indicator": N_("Indicator"),
}
PER_STAGE = 50


def _form(raw: Any) -> dict[str, str]:
    return {k: str(v).strip() for k, v in raw.items() if k != "csrf_token"}


def _present(form: dict[str, str]) -> dict[str, str]:
    """Empty form fields mean 'not given'."""
    return {k: v for k, v in form.items() if v}


def _user(web: WebContext) -> uuid.UUID | None:
    return web.user.id if web.user else None


def _board(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    status: int = 200,
    errors: Sequence[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    columns = {
        stage: service.list_entries(
            db, web.actor, business_id=business.id, stage=stage, limit=PER_STAGE
        )[0]
        for stage in Stage
    }
    return page(
        request,
        web,
        "pipeline/board.html",
        status=status,
        business=business,
        current_business_id=business.id,
        columns=columns,
        counts=service.stage_counts(db, web.actor, business_id=business.id),
        due=len(service.due_follow_ups(db, web.actor, business.id, limit=200)[0]),
        people=service.people(db, web.actor, business.id),
        labels=LABELS,
        errors=errors or [],
        form=form or {},
    )


@router.get("/b/{business_id}/pipeline")
def board(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
    return _board(request, web, db, business)


@router.post("/b/{business_id}/pipeline/entries", dependencies=[Csrf])
def add_entry(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, posted: PostedForm
) -> Response:
    form = _form(posted)
    try:
        entry = service.create_entry(
            db,
            web.actor,
            business_id=business.id,
            data=EntryCreate.model_validate(_present(form)),
            user_id=_user(web),
        )
    except ValidationError as exc:
        db.rollback()
        return _board(request, web, db, business, 422, errors_of(exc), form)
    except DomainError as exc:
        db.rollback()
        return _board(request, web, db, business, exc.status, errors_of(exc), form)
    return RedirectResponse(f"/b/{business.id}/pipeline/entries/{entry.id}", status_code=303)


def _entry_page(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    entry_id: str,
    status: int = 200,
    errors: Sequence[str] | None = None,
) -> Response:
    entry = service.get_entry(db, web.actor, business_id=business.id, entry_id=parse_uuid(entry_id))
    log, _ = service.activities(
        db, web.actor, business_id=business.id, entry_id=entry.id, limit=200
    )
    proposal = None
    if entry.proposal_id is not None:
        proposal, _ = partnerships.get(db, web.actor, entry.proposal_id)
    people = service.people(db, web.actor, business.id)
    return page(
        request,
        web,
        "pipeline/entry.html",
        status=status,
        business=business,
        current_business_id=business.id,
        entry=entry,
        log=log,
        proposal=proposal,
        names={user.id: user.name or user.email for user, _ in people},
        stages=list(Stage),
        kinds=list(Kind),
        labels=LABELS,
        errors=errors or [],
    )


@router.get("/b/{business_id}/pipeline/entries/{entry_id}")
def entry(
    request: Request, business: ManagerBusinessPage, entry_id: str, web: SignedIn, db: Db
) -> Response:
    return _entry_page(request, web, db, business, entry_id)


@router.post("/b/{business_id}/pipeline/entries/{entry_id}/{action}", dependencies=[Csrf])
def entry_action(
    request: Request,
    business: ManagerBusinessPage,
    entry_id: str,
    action: str,
    web: SignedIn,
    db: Db,
    posted: PostedForm,
) -> Response:
    """stage, activity or follow-up, from the entry page."""
    form = _form(posted)
    target = parse_uuid(entry_id)
    try:
        if action == "stage":
            service.move(
                db,
                web.actor,
                business_id=business.id,
                entry_id=target,
                data=StageMove.model_validate(_present(form)),
                user_id=_user(web),
            )
        elif action == "activity":
            data = _present(form)
            if "amount" in data:  # people type major units: 12.50
                data["amount_minor"] = str(minor_units(data.pop("amount"), business.currency))
            service.log_activity(
                db,
                web.actor,
                business_id=business.id,
                entry_id=target,
                data=ActivityCreate.model_validate(data),
                user_id=_user(web),
            )
        elif action == "follow-up":
            on = form.get("on") or None
            service.set_follow_up(
                db,
                web.actor,
                business_id=business.id,
                entry_id=target,
                on=locale_input.parse_date(on) if on else None,
            )
        else:
            service.get_entry(db, web.actor, business_id=business.id, entry_id=target)
            return _entry_page(request, web, db, business, entry_id, 404, ["Unknown action."])
    except ValidationError as exc:
        db.rollback()
        return _entry_page(request, web, db, business, entry_id, 422, errors_of(exc))
    except ValueError:
        db.rollback()
        return _entry_page(request, web, db, business, entry_id, 422, ["Not a number or date."])
    except DomainError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _entry_page(request, web, db, business, entry_id, exc.status, errors_of(exc))
    return RedirectResponse(f"/b/{business.id}/pipeline/entries/{entry_id}", status_code=303)


@router.get("/b/{business_id}/pipeline/due")
def due(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
    today = service.local_today(business)
    entries, _ = service.due_follow_ups(db, web.actor, business.id, today, limit=200)
    return page(
        request,
        web,
        "pipeline/due.html",
        business=business,
        current_business_id=business.id,
        entries=entries,
        today=today,
        labels=LABELS,
    )


def _month(raw: str | None, business: Business) -> date:
    try:
        return date.fromisoformat(f"{raw}-01" if raw and len(raw) == 7 else raw or "").replace(
            day=1
        )
    except ValueError:
        return service.local_today(business).replace(day=1)


def _targets_page(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    month: date,
    status: int = 200,
    errors: Sequence[str] | None = None,
) -> Response:
    role = businesses.role_in(web.actor, business)
    return page(
        request,
        web,
        "pipeline/targets.html",
        status=status,
        business=business,
        current_business_id=business.id,
        month=month,
        facts=service.targets(db, web.actor, business_id=business.id, month=month),
        is_owner=role is Role.owner,
        errors=errors or [],
    )


@router.get("/b/{business_id}/pipeline/targets")
def targets(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, month: str | None = None
) -> Response:
    return _targets_page(request, web, db, business, _month(month, business))


@router.post("/b/{business_id}/pipeline/targets", dependencies=[Csrf])
def set_target(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, posted: PostedForm
) -> Response:
    form = _present(_form(posted))
    month = _month(form.get("month"), business)
    try:
        if "order_sum" in form:
            form["order_sum_minor"] = str(minor_units(form.pop("order_sum"), business.currency))
        service.set_target(
            db, web.actor, business_id=business.id, data=TargetSet.model_validate(form)
        )
    except ValidationError as exc:
        db.rollback()
        return _targets_page(request, web, db, business, month, 422, errors_of(exc))
    except ValueError:
        db.rollback()
        return _targets_page(request, web, db, business, month, 422, ["Not a number."])
    except DomainError as exc:
        db.rollback()
        return _targets_page(request, web, db, business, month, exc.status, errors_of(exc))
    return RedirectResponse(
        f"/b/{business.id}/pipeline/targets?month={month:%Y-%m}", status_code=303
    )


def _reciprocity_page(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    proposal_id: str,
    status: int = 200,
    errors: Sequence[str] | None = None,
) -> Response:
    figures = service.reciprocity(db, web.actor, proposal_id=parse_uuid(proposal_id))
    recent, _ = service.deliveries(db, web.actor, proposal_id=figures.proposal_id, limit=50)
    names = {s.business_id: s.name for s in figures.sides}
    return page(
        request,
        web,
        "pipeline/reciprocity.html",
        status=status,
        business=business,
        current_business_id=business.id,
        r=figures,
        deliveries=recent,
        names=names,
        owed=[(i.what, s.business_id) for s in figures.sides for i in s.items],
        labels=LABELS,
        errors=errors or [],
    )


@router.get("/b/{business_id}/pipeline/reciprocity/{proposal_id}")
def reciprocity(
    request: Request,
    business: ManagerBusinessPage,
    proposal: PartyProposalPage,
    web: SignedIn,
    db: Db,
) -> Response:
    return _reciprocity_page(request, web, db, business, str(proposal.id))


@router.post("/b/{business_id}/pipeline/reciprocity/{proposal_id}/deliveries", dependencies=[Csrf])
def record_delivery(
    request: Request,
    business: ManagerBusinessPage,
    proposal: PartyProposalPage,
    web: SignedIn,
    db: Db,
    posted: PostedForm,
) -> Response:
    form = _present(_form(posted))
    # The form's one select names the item and its side together: "<business id>|<what>".
    side, _, what = form.pop("item", "").partition("|")
    if what:
        form["what"], form["business_id"] = what, side
    try:
        service.record_delivery(
            db,
            web.actor,
            proposal_id=proposal.id,
            data=DeliveryCreate.model_validate(form),
            user_id=_user(web),
        )
    except ValidationError as exc:
        db.rollback()
        return _reciprocity_page(request, web, db, business, str(proposal.id), 422, errors_of(exc))
    except DomainError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _reciprocity_page(
            request, web, db, business, str(proposal.id), exc.status, errors_of(exc)
        )
    return RedirectResponse(f"/b/{business.id}/pipeline/reciprocity/{proposal.id}", status_code=303)
