"""Pages: the proposals of a business, a new proposal (from a suggestion), one proposal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import DomainError
from crosspromo.partnerships import invitations, service
from crosspromo.partnerships.auth import PartyProposalPage
from crosspromo.partnerships.schemas import (
    Accept,
    Counter,
    Decline,
    InvitationCreate,
    MessageIn,
    Option,
    ProposalCreate,
)
from crosspromo.roles import Role
from crosspromo.web import flash
from crosspromo.web.deps import Csrf, Db, Page, SignedIn, parse_uuid
from crosspromo.web.forms import PostedForm, errors_of, minor_units
from crosspromo.web.i18n import N_, major

router = APIRouter(include_in_schema=False)


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
    "coalition": N_("Coalition membership"),
    "barter": N_("Barter: each side promotes the other"),
    "per_click": N_("Pay per click"),
    "per_lead": N_("Pay per lead"),
    "per_sale_percent": N_("Percent of each sale"),
    "per_sale_fixed": N_("Fixed sum per sale"),
    "fixed_fee": N_("Fixed fee"),
    "revenue_share": N_("Revenue share"),
    "staff_reward": N_("Reward to the partner's staff"),
}
MECHANICS = (
    "joint_promotion",
    "joint_advertising",
    "audience_exchange",
    "staff_recommendations",
    "coalition_points",
    "co_branding",
    "event",
    "coalition",  # offered in a block that names a coalition (the coalition's page fills it)
)


# What a changed field is called in the change table (the same words as the form).
FIELDS = {
    "mechanic": N_("Mechanic"),
    "title": N_("In one line"),
    "starts_on": N_("Starts"),
    "ends_on": N_("Ends"),
    "tracking": N_("How results will be tracked"),
    "resources": N_("Resources"),
    "lead_handoff": N_("How leads pass between the teams"),
    "data_sharing": N_("Customer data"),
    "payment_model": N_("Payment model"),
    "payment_minor": N_("Amount"),
    "payment_percent": N_("Percent"),
    "currency": N_("Currency"),
    "exchanges": N_("Exchanges"),
    "indicators": N_("Indicators"),
    "gives": N_("gives"),
    "gets": N_("gets"),
    "expected_result": N_("expects"),
    "responsible": N_("responsible"),
    "staff_script": N_("staff say"),
    "motivation": N_("motivational discount"),
    "coalition.rules_version": N_("Rules version"),
    "coalition.earn_milli": N_("Points per 1000 units"),
    "coalition.welcome_points": N_("Welcome bonus"),
}
COALITION_FIELDS = ("coalition_id", "rules_version", "earn_milli", "welcome_points")


def _changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """service.changes as rows a person reads: option number, side, field label, old, new."""

    def shown(value: Any) -> Any:
        if value == "" or value == []:
            return None  # shown as a dash, like a missing value
        if isinstance(value, dict):  # a whole option added or removed
            return value.get("title", "")
        if isinstance(value, list):
            return "; ".join(
                " ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
                for item in value
            )
        return value

    rows = []
    for path, old, new in service.changes(before, after):
        head, _, rest = path.partition(".")
        parts = rest.split(".") if rest else []
        side = parts.pop(0) if parts and parts[0] in ("proposer", "partner") else None
        field = ".".join(parts)
        rows.append(
            {
                "option": head.removeprefix("option "),
                "side": side,
                "field": FIELDS.get(field, field),
                "old": shown(old),
                "new": shown(new),
            }
        )
    return rows


PAYMENT_MODELS = (
    "barter",
    "per_click",
    "per_lead",
    "per_sale_percent",
    "per_sale_fixed",
    "fixed_fee",
    "revenue_share",
    "staff_reward",
)
MAX_OPTIONS = 5


def _side(form: dict[str, str], who: str) -> dict[str, str]:
    return {
        "gives": form.get(f"{who}_give", ""),
        "gets": form.get(f"{who}_get", ""),
        "expected_result": form.get(f"{who}_expect", ""),
        "responsible": form.get(f"{who}_responsible", ""),
        "staff_script": form.get(f"{who}_script", ""),
        "motivation": form.get(f"{who}_motivation", ""),
    }


def _option(form: dict[str, str], author_is_proposer: bool = True) -> dict[str, Any]:
    """One option from the form, whose "we" is the author's side (the API takes JSON)."""
    we, they = _side(form, "we"), _side(form, "they")
    currency = form.get("currency", "").strip().upper()
    exchanges = []
    what = form.get("exchange_what", "").strip()
    for who, by in (("we", "proposer"), ("they", "partner")):
        count = form.get(f"{who}_per_month", "").strip()
        if what and count:
            if not author_is_proposer:
                by = "partner" if by == "proposer" else "proposer"
            exchanges.append({"what": what, "per_month": count, "by": by})
    return {
        "mechanic": form.get("mechanic", ""),
        "title": form.get("title", ""),
        "proposer": we if author_is_proposer else they,
        "partner": they if author_is_proposer else we,
        "starts_on": form.get("starts_on") or None,
        "ends_on": form.get("ends_on") or None,
        "tracking": form.get("tracking", ""),
        "resources": form.get("resources", ""),
        "lead_handoff": form.get("lead_handoff", ""),
        "data_sharing": form.get("data_sharing") or "none",
        "payment_model": form.get("payment_model") or "barter",
        "payment_minor": minor_units(form.get("payment_amount", ""), currency, "payment_amount"),
        "payment_percent": form.get("payment_percent") or None,
        "currency": currency or None,
        "exchanges": exchanges,
        "coalition": {k: v for k in COALITION_FIELDS if (v := form.get(k, "").strip())}
        if form.get("mechanic") == "coalition"
        else None,
    }


def _options(form: dict[str, str], author_is_proposer: bool) -> list[Option]:
    """Every filled option block (o0.*, o1.* ...); blank blocks are skipped."""
    found = []
    for i in range(MAX_OPTIONS):
        block = {
            k.split(".", 1)[1]: v for k, v in form.items() if k.startswith(f"o{i}.") and "." in k
        }
        if i > 0 and not block.get("title", "").strip():
            continue
        found.append(Option.model_validate(_option(block, author_is_proposer)))
    return found


def _form_of(option: dict[str, Any], author_is_proposer: bool) -> dict[str, Any]:
    """The inverse of `_option`: a stored option as form values from the viewer's side."""
    we = option["proposer"] if author_is_proposer else option["partner"]
    they = option["partner"] if author_is_proposer else option["proposer"]
    form: dict[str, Any] = {
        k: option.get(k) or ""
        for k in ("mechanic", "title", "starts_on", "ends_on", "tracking", "resources")
    }
    form |= {
        "lead_handoff": option.get("lead_handoff", ""),
        "data_sharing": option.get("data_sharing", "none"),
        "payment_model": option.get("payment_model", "barter"),
        "payment_percent": option.get("payment_percent") or "",
        "currency": option.get("currency") or "",
    }
    if option.get("payment_minor") is not None:
        form["payment_amount"] = major(option["payment_minor"], option.get("currency"))
    for who, side in (("we", we), ("they", they)):
        for key, name in (
            ("gives", "give"),
            ("gets", "get"),
            ("expected_result", "expect"),
            ("responsible", "responsible"),
            ("staff_script", "script"),
            ("motivation", "motivation"),
        ):
            form[f"{who}_{name}"] = side.get(key, "")
    for name in COALITION_FIELDS:
        form[name] = (option.get("coalition") or {}).get(name, "")
    mine = "proposer" if author_is_proposer else "partner"
    for exchange in option.get("exchanges", []):
        form["exchange_what"] = exchange["what"]
        form["we_per_month" if exchange["by"] == mine else "they_per_month"] = exchange["per_month"]
    return form


def _blocks(form: dict[str, str]) -> list[dict[str, str]]:
    return [
        {k.split(".", 1)[1]: v for k, v in form.items() if k.startswith(f"o{i}.")} for i in range(3)
    ]


def _counter_blocks(db: Db, proposal: Any, viewer_is_proposer: bool) -> list[dict[str, Any]]:
    """The current terms, prefilled, plus a blank block for one more option."""
    current = service.versions(db, proposal)[-1][0]
    blocks = [_form_of(o, viewer_is_proposer) for o in current.options]
    return blocks + ([{}] if len(blocks) < MAX_OPTIONS else [])


def _is_proposer(db: Db, web: Any, proposal_id: Any) -> bool:
    proposal, mine = service.get(db, web.actor, proposal_id)
    return bool(mine.id == proposal.from_business_id)


@router.get("/b/{business_id}/proposals")
def proposals(request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db) -> Response:
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


@router.get("/b/{business_id}/partners/names")
def partner_names(
    request: Request,
    business: ManagerBusinessPage,
    web: SignedIn,
    db: Db,
    to: Annotated[str, Query(max_length=200)] = "",
    other: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The names offered as one types a partner (htmx, into a datalist): businesses open to
    partnerships, never this one."""
    found = businesses.addressable(db, query=to or other, exclude_id=business.id)
    return page(request, web, "partnerships/_names.html", found=found)


def _name_of(db: Db, slug: str) -> str:
    """A partner's name for the "To" field, where the name alone finds it; else its slug."""
    target = businesses.get_by_slug(db, slug.strip().lower()) if slug.strip() else None
    if target is None or businesses.find_partner(db, target.name) is not target:
        return slug
    return target.name


@router.get("/b/{business_id}/proposals/new")
def new_form(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, to: str = ""
) -> Response:
    return page(
        request,
        web,
        "partnerships/new.html",
        business=business,
        form={"to": _name_of(db, to)},
        blocks=[{}, {}, {}],
        payment_models=PAYMENT_MODELS,
        mechanics=MECHANICS,
        labels=LABELS,
        errors=[],
    )


@router.post("/b/{business_id}/proposals/new", dependencies=[Csrf])
def create(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, posted: PostedForm
) -> Response:
    form = {k: str(v) for k, v in posted.items()}
    try:
        if "@" in form.get("to", ""):
            invitation, link = invitations.invite(
                db,
                web.actor,
                from_business_id=business.id,
                data=InvitationCreate(
                    email=form["to"],
                    message=form.get("message", ""),
                    options=_options(form, author_is_proposer=True),
                ),
                public_url=request.app.state.settings.public_url,
                user_id=web.user.id if web.user else None,
            )
            return page(
                request,
                web,
                "partnerships/invited.html",
                business=business,
                email=invitation.email,
                link=link,
            )
        data = ProposalCreate(
            to_business=form.get("to", ""),
            message=form.get("message", ""),
            options=_options(form, author_is_proposer=True),
        )
        proposal = service.propose(
            db,
            web.actor,
            from_business_id=business.id,
            data=data,
            user_id=web.user.id if web.user else None,
        )
    except ValidationError as exc:
        db.rollback()
        return page(
            request,
            web,
            "partnerships/new.html",
            status=422,
            business=business,
            form=form,
            blocks=_blocks(form),
            payment_models=PAYMENT_MODELS,
            mechanics=MECHANICS,
            labels=LABELS,
            errors=errors_of(exc),
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
            blocks=_blocks(form),
            payment_models=PAYMENT_MODELS,
            mechanics=MECHANICS,
            labels=LABELS,
            errors=errors_of(exc),
        )
    partner = businesses.by_ids(db, {proposal.to_business_id})
    return flash.redirect(
        f"/b/{business.id}/proposals/{proposal.id}",
        "Proposal sent to %(name)s.",
        name=partner[0].name if partner else "",
    )


def _show(
    request: Request,
    web: Any,
    db: Db,
    business: Business,
    proposal_id: str,
    status: int = 200,
    errors: Sequence[str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The proposal page; after a refused counter, its form keeps what was `typed`."""
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
        accepted=service.accepted_options(db, proposal),
        diff=_changes,
        names=names,
        messages=service.messages(db, proposal),
        is_owner=role is Role.owner,
        blocks=_blocks(typed)
        if typed
        else _counter_blocks(db, proposal, mine.id == proposal.from_business_id),
        payment_models=PAYMENT_MODELS,
        mechanics=MECHANICS,
        labels=LABELS,
        errors=errors or [],
    )


@router.get("/b/{business_id}/proposals/{proposal_id}")
def show(
    request: Request,
    business: ManagerBusinessPage,
    proposal: PartyProposalPage,
    web: SignedIn,
    db: Db,
) -> Response:
    return _show(request, web, db, business, str(proposal.id))


@router.get("/b/{business_id}/proposals/{proposal_id}/{action}")
def again(
    business: ManagerBusinessPage, proposal: PartyProposalPage, web: SignedIn, db: Db
) -> Response:
    """A page that answered a form, opened again (a language switch): the proposal page."""
    target = f"/b/{business.id}/proposals/{proposal.id}"
    return RedirectResponse(target, status_code=303)


@router.post("/b/{business_id}/proposals/{proposal_id}/{action}", dependencies=[Csrf])
def act(
    request: Request,
    business: ManagerBusinessPage,
    proposal: PartyProposalPage,
    action: str,
    web: SignedIn,
    db: Db,
    posted: PostedForm,
) -> Response:
    """accept, decline, counter or message, from the proposal page."""
    form = {k: str(v) for k, v in posted.items()}
    pid = proposal.id
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
                    options=_options(form, author_is_proposer=_is_proposer(db, web, pid)),
                    note=form.get("note", ""),
                ),
                user_id,
            )
        elif action == "message":
            service.post_message(db, web.actor, pid, MessageIn(text=form.get("text", "")), user_id)
        else:
            return _show(request, web, db, business, str(proposal.id), 404, ["Unknown action."])
    except ValidationError as exc:
        db.rollback()
        typed = form if action == "counter" else None
        return _show(request, web, db, business, str(proposal.id), 422, errors_of(exc), typed)
    except ValueError:
        db.rollback()
        return _show(request, web, db, business, str(proposal.id), 422, ["Not a number."])
    except DomainError as exc:
        db.rollback()
        typed = form if action == "counter" else None
        return _show(
            request, web, db, business, str(proposal.id), exc.status, errors_of(exc), typed
        )
    done = {
        "accept": "Accepted.",
        "decline": "Declined.",
        "counter": "Your new terms were sent.",
        "message": "Message sent.",
    }
    return flash.redirect(f"/b/{business.id}/proposals/{proposal.id}", done[action])


@router.get("/invite/{token}")
def invitation(request: Request, token: str, web: Page, db: Db) -> Response:
    """The invited owner's page: who proposes what; sign up or answer for a business."""
    found, sender = invitations.find(db, token)
    owned = [b for b in web.businesses if businesses.role_in(web.actor, b) is Role.owner]
    return page(
        request,
        web,
        "partnerships/invitation.html",
        invitation=found,
        sender=sender,
        token=token,
        owned=owned,
        labels=LABELS,
        errors=[],
    )


@router.post("/invite/{token}", dependencies=[Csrf])
def answer_invitation(
    request: Request, token: str, web: SignedIn, db: Db, posted: PostedForm
) -> Response:
    form = {k: str(v) for k, v in posted.items()}
    try:
        proposal = invitations.answer(
            db, web.actor, token, business_id=parse_uuid(form.get("business_id", ""))
        )
    except DomainError as exc:
        db.rollback()
        found, sender = invitations.find(db, token)
        return page(
            request,
            web,
            "partnerships/invitation.html",
            status=exc.status,
            invitation=found,
            sender=sender,
            token=token,
            owned=[],
            labels=LABELS,
            errors=errors_of(exc),
        )
    return RedirectResponse(f"/b/{proposal.to_business_id}/proposals/{proposal.id}", 303)
