"""Pages: the proposals of a business, a new proposal (from a suggestion), one proposal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.models import Role
from crosspromo.accounts.pages import page
from crosspromo.businesses import service as businesses
from crosspromo.errors import DomainError
from crosspromo.partnerships import service
from crosspromo.partnerships.schemas import (
    Accept,
    Counter,
    Decline,
    MessageIn,
    Option,
    ProposalCreate,
)
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid

router = APIRouter(include_in_schema=False)


def N_(text: str) -> str:
    """Marks a word for the catalogue; the templates translate it."""
    return text


LABELS = {
    "open": N_("Open"),
    "agreed": N_("Agreed"),
    "declined": N_("Declined"),
    "joint_promotion": N_("Joint promotion"),
    "joint_advertising": N_("Joint advertising"),
    "audience_exchange": N_("Audience exchange"),
    "staff_recommendations": N_("Staff recommendations"),
    "coalition_points": N_("Coalition points"),
    "co_branding": N_("Co-branding"),
    "event": N_("Event"),
}
MECHANICS = (
    "joint_promotion",
    "joint_advertising",
    "audience_exchange",
    "staff_recommendations",
    "coalition_points",
    "co_branding",
    "event",
)


def _option(form: dict[str, Any]) -> dict[str, Any]:
    """One option from the simple form (the API takes up to five)."""
    return {
        "mechanic": form.get("mechanic", ""),
        "title": form.get("title", ""),
        "proposer": {
            "gives": form.get("we_give", ""),
            "gets": form.get("we_get", ""),
            "expected_result": form.get("we_expect", ""),
        },
        "partner": {
            "gives": form.get("they_give", ""),
            "gets": form.get("they_get", ""),
            "expected_result": form.get("they_expect", ""),
        },
        "starts_on": form.get("starts_on") or None,
        "ends_on": form.get("ends_on") or None,
        "tracking": form.get("tracking", ""),
        "payment_model": "barter",
    }


def _errors(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    ]


@router.get("/b/{business_id}/proposals")
def proposals(request: Request, business_id: str, web: SignedIn, db: Db) -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    found = service.list_for(db, web.actor, business_id=business.id)
    names = {
        b.id: b.name
        for b in businesses.by_ids(
            db, {p.from_business_id for p in found} | {p.to_business_id for p in found}
        )
    }
    return page(
        request,
        web,
        "partnerships/list.html",
        business=business,
        proposals=found,
        names=names,
        labels=LABELS,
    )


@router.get("/b/{business_id}/proposals/new")
def new_form(request: Request, business_id: str, web: SignedIn, db: Db, to: str = "") -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    return page(
        request,
        web,
        "partnerships/new.html",
        business=business,
        form={"to": to},
        mechanics=MECHANICS,
        labels=LABELS,
        errors=[],
    )


@router.post("/b/{business_id}/proposals/new", dependencies=[Csrf])
async def create(request: Request, business_id: str, web: SignedIn, db: Db) -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        data = ProposalCreate(
            to_business=form.get("to", ""),
            message=form.get("message", ""),
            options=[Option.model_validate(_option(form))],
        )
        proposal = service.propose(
            db,
            web.actor,
            from_business_id=business.id,
            data=data,
            user_id=web.user.id if web.user else None,
        )
    except ValidationError as exc:
        return page(
            request,
            web,
            "partnerships/new.html",
            status=422,
            business=business,
            form=form,
            mechanics=MECHANICS,
            labels=LABELS,
            errors=_errors(exc),
        )
    except DomainError as exc:
        db.rollback()
        return page(
            request,
            web,
            "partnerships/new.html",
            status=exc.status,
            business=business,
            form=form,
            mechanics=MECHANICS,
            labels=LABELS,
            errors=[exc.detail],
        )
    db.commit()
    return RedirectResponse(f"/b/{business.id}/proposals/{proposal.id}", status_code=303)


def _show(
    request: Request,
    web: Any,
    db: Db,
    business_id: str,
    proposal_id: str,
    status: int = 200,
    errors: list[str] | None = None,
) -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    proposal, mine = service.get(db, web.actor, parse_uuid(proposal_id))
    if mine.id != business.id:
        return RedirectResponse(f"/b/{mine.id}/proposals/{proposal.id}", status_code=303)
    names = {
        b.id: b.name
        for b in businesses.by_ids(db, {proposal.from_business_id, proposal.to_business_id})
    }
    role = businesses.role_in(web.actor, business)
    return page(
        request,
        web,
        "partnerships/show.html",
        status=status,
        business=business,
        proposal=proposal,
        versions=service.versions(db, proposal),
        diff=service.changes,
        names=names,
        messages=service.messages(db, proposal),
        is_owner=role is Role.owner,
        mechanics=MECHANICS,
        labels=LABELS,
        errors=errors or [],
    )


@router.get("/b/{business_id}/proposals/{proposal_id}")
def show(request: Request, business_id: str, proposal_id: str, web: SignedIn, db: Db) -> Response:
    return _show(request, web, db, business_id, proposal_id)


@router.post("/b/{business_id}/proposals/{proposal_id}/{action}", dependencies=[Csrf])
async def act(
    request: Request, business_id: str, proposal_id: str, action: str, web: SignedIn, db: Db
) -> Response:
    """accept, decline, counter or message, from the proposal page."""
    businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    form = {k: str(v) for k, v in (await request.form()).items()}
    pid = parse_uuid(proposal_id)
    user_id = web.user.id if web.user else None
    try:
        if action == "accept":
            service.accept(
                db,
                web.actor,
                pid,
                Accept(
                    version=int(form.get("version", "0") or 0),
                    option=int(form.get("option", "0") or 0),
                ),
                user_id,
            )
        elif action == "decline":
            service.decline(db, web.actor, pid, Decline(reason=form.get("reason", "")))
        elif action == "counter":
            service.counter(
                db,
                web.actor,
                pid,
                Counter(
                    based_on=int(form.get("based_on", "0") or 0),
                    options=[Option.model_validate(_option(form))],
                    note=form.get("note", ""),
                ),
                user_id,
            )
        elif action == "message":
            service.post_message(db, web.actor, pid, MessageIn(text=form.get("text", "")), user_id)
        else:
            return _show(request, web, db, business_id, proposal_id, 404, ["Unknown action."])
    except ValidationError as exc:
        db.rollback()
        return _show(request, web, db, business_id, proposal_id, 422, _errors(exc))
    except ValueError:
        db.rollback()
        return _show(request, web, db, business_id, proposal_id, 422, ["Not a number."])
    except DomainError as exc:
        db.rollback()
        return _show(request, web, db, business_id, proposal_id, exc.status, [exc.detail])
    db.commit()
    return RedirectResponse(f"/b/{business_id}/proposals/{proposal_id}", status_code=303)
