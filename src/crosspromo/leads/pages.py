"""Pages: the public request form (standalone and embedded), the hand-off consent link, and the
business's lead pipeline with its figures, forms, specialists and each lead's answers."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from crosspromo.accounts.pages import page
from crosspromo.auth import CashierBusinessPage
from crosspromo.businesses import categories as taxonomy
from crosspromo.businesses import service as businesses
from crosspromo.errors import DomainError
from crosspromo.leads import figures, flows, service
from crosspromo.leads.api import snippet
from crosspromo.leads.auth import CashierLeadPage
from crosspromo.leads.models import LeadForm, Specialist
from crosspromo.leads.schemas import AcceptIn, DisputeIn, RequestIn, StatusIn
from crosspromo.roles import Role
from crosspromo.settings import get_settings
from crosspromo.web.deps import Csrf, Db, Page, SignedIn, parse_uuid
from crosspromo.web.flash import redirect
from crosspromo.web.forms import PostedForm, minor_units
from crosspromo.web.i18n import N_, moment, pick_locale

router = APIRouter(include_in_schema=False)

# What the customer reads for each refusal, in their language.
REFUSALS = {
    "no-contact": N_("Give a phone or an e-mail so the partner can reach you."),
    "phone-invalid": N_("This is not a phone number."),
    "email-invalid": N_("This is not an e-mail address."),
    "consent-required": N_("Agree to be contacted by the named partners to send the request."),
    "out-of-area": N_("Sorry, the address is outside the area our partners serve."),
    "unknown-district": N_("Choose a district from the list."),
    "duplicate-lead": N_("We already have your request for this; a specialist will call you."),
    "rate-limited": N_("Too many requests from your address; try again later."),
    "validation": N_("Check the highlighted fields."),
    "specialist-at-capacity": N_("The specialist has no capacity left today."),
    "no-specialist": N_("No partner specialist is free for this lead now."),
    "lead-moved-on": N_("Too late: the lead moved on to another specialist."),
    "lead-taken": N_("Another specialist accepted the lead first."),
    "lead-status": N_("The lead's status does not allow this step."),
    "not-charged": N_("This business was not charged for the lead."),
    "dispute-exists": N_("The lead is already disputed."),
    "dispute-window-closed": N_("The dispute window has passed."),
}
STATUSES = {
    "new": N_("New"),
    "awaiting_consent": N_("Awaiting consent"),
    "offered": N_("Offered"),
    "accepted": N_("Accepted"),
    "contacted": N_("Contacted"),
    "won": N_("Won"),
    "lost": N_("Lost"),
    "moved_on": N_("Moved on"),
    "charged": N_("Charged"),
    "disputed": N_("Disputed"),
    "consented": N_("Consented"),
    "pending": N_("Pending"),
    "dispute_upheld": N_("Dispute upheld"),
    "dispute_rejected": N_("Dispute rejected"),
}
REASONS = {
    "duplicate": N_("Duplicate"),
    "spam": N_("Spam"),
    "out_of_area": N_("Out of area"),
}
FACTORS = {
    "specialisation": N_("specialisation"),
    "distance": N_("distance"),
    "acceptance": N_("past acceptance"),
    "response": N_("response time"),
}


def _label(code: str, locale: str) -> str:
    found = taxonomy.get(code)
    return found.name(locale) if found else code


def _form_page(
    request: Request,
    web: Any,
    db: Db,
    form: LeadForm,
    *,
    embed: bool,
    status: int = 200,
    values: dict[str, Any] | None = None,
    refusal: DomainError | None = None,
    reference: str | None = None,
) -> Response:
    locale = pick_locale(request, web.user_locale)
    return page(
        request,
        web,
        "leads/form.html",
        status=status,
        form=form,
        embed=embed,
        partners=service.members(db, form),
        categories=[(c, _label(c, locale)) for c in form.categories],
        values=values or {},
        refusal=refusal,
        message=REFUSALS.get(refusal.kind, "") if refusal else "",
        reference=reference,
        action=f"/l/{form.id}/embed" if embed else f"/l/{form.id}",
    )


@router.get("/l/{form_id}")
def form_page(request: Request, form_id: str, web: Page, db: Db) -> Response:
    """The public request form, in the customer's language."""
    form = service.public_form(db, parse_uuid(form_id))
    return _form_page(request, web, db, form, embed=False)


@router.get("/l/{form_id}/embed")
def form_embed(request: Request, form_id: str, web: Page, db: Db) -> Response:
    """The same form for a frame in a partner's own site (the snippet)."""
    form = service.public_form(db, parse_uuid(form_id))
    return _form_page(request, web, db, form, embed=True)


def _send(request: Request, web: Any, db: Db, form_id: str, raw: Any, *, embed: bool) -> Response:
    form = service.public_form(db, parse_uuid(form_id))
    values = {k: raw.get(k, "") for k in ("need", "address", "district", "wanted", "name")}
    values |= {k: raw.get(k, "") for k in ("phone", "email", "website")}
    values["categories"] = raw.getlist("categories")
    values["consent"] = raw.getlist("consent")
    try:
        data = RequestIn.model_validate(values | {"locale": pick_locale(request, None)})
        _, reference = flows.submit(request, db, form.id, data)
    except ValidationError:
        db.rollback()
        invalid = DomainError("Check the fields.", kind="validation", status=422)
        return _form_page(
            request, web, db, form, embed=embed, status=422, values=values, refusal=invalid
        )
    except DomainError as exc:
        db.rollback()
        return _form_page(
            request, web, db, form, embed=embed, status=exc.status, values=values, refusal=exc
        )
    return _form_page(request, web, db, form, embed=embed, status=201, reference=reference)


@router.post("/l/{form_id}", dependencies=[Csrf])
def form_submit(request: Request, form_id: str, web: Page, db: Db, raw: PostedForm) -> Response:
    """The customer sends the request; the page thanks them with a reference."""
    return _send(request, web, db, form_id, raw, embed=False)


@router.post("/l/{form_id}/embed")
def embed_submit(request: Request, form_id: str, web: Page, db: Db, raw: PostedForm) -> Response:
    """From a partner's site. No CSRF token: a third-party frame gets no first-party cookie,
    and an anonymous request has no session to forge; the rate limit and honeypot apply."""
    return _send(request, web, db, form_id, raw, embed=True)


@router.get("/l/consent/{token}")
def consent_page(request: Request, token: str, web: Page, db: Db) -> Response:
    """The customer reads who passes them to whom, and agrees (or not)."""
    lead, sender, partner = service.consent_preview(db, token[:100])
    return page(
        request, web, "leads/consent.html", lead=lead, sender=sender, partner=partner, done=False
    )


@router.post("/l/consent/{token}", dependencies=[Csrf])
def consent_given(request: Request, token: str, web: Page, db: Db) -> Response:
    lead, partner = service.confirm_consent(db, token[:100])
    _, sender, _ = service.consent_preview(db, token[:100])
    return page(
        request, web, "leads/consent.html", lead=lead, sender=sender, partner=partner, done=True
    )


# The business's pipeline of leads


@router.get("/b/{business_id}/leads")
def pipeline(
    request: Request,
    business: CashierBusinessPage,
    web: SignedIn,
    db: Db,
) -> Response:
    """Leads received or offered, the figures per partner and specialist, forms, specialists."""
    found, _ = service.list_leads(db, web.actor, business.id, limit=100)
    role = businesses.role_in(web.actor, business)
    manager = role is not None and role.at_least(Role.manager)
    base = get_settings().public_url.rstrip("/")
    forms = service.forms_of(db, web.actor, business.id) if manager else []
    return page(
        request,
        web,
        "leads/pipeline.html",
        business=business,
        leads=found,
        figures=figures.figures(db, web.actor, business.id),
        forms=[(f, f"{base}/l/{f.id}", snippet(base, f)) for f in forms],
        specialists=service.specialists_of(db, web.actor, business.id),
        statuses=STATUSES,
        label=lambda code: _label(code, pick_locale(request, web.user_locale)),
        local=lambda at: moment(at, business.timezone),
    )


@router.get("/b/{business_id}/leads/{lead_id}")
def lead_page(
    request: Request, business: CashierBusinessPage, lead: CashierLeadPage, web: SignedIn, db: Db
) -> Response:
    """One lead: its offers with why, its log (who, when), and the answers open to us."""
    offers = service.offers_of(db, lead)
    ids = {o.specialist_id for o in offers}
    people = {s.id: s for s in (db.get(Specialist, i) for i in ids) if s is not None}
    names = {b.id: b.name for b in businesses.by_ids(db, {o.business_id for o in offers})}
    names[lead.business_id] = names.get(lead.business_id) or business.name
    ours = [o for o in offers if o.business_id == business.id and o.outcome.value == "pending"]
    return page(
        request,
        web,
        "leads/lead.html",
        business=business,
        lead=lead,
        offers=offers,
        people=people,
        names=names,
        ours=ours,
        events=service.events_of(db, lead),
        dispute=service.dispute_of(db, lead),
        children=service.children_of(db, lead),
        statuses=STATUSES,
        factors=FACTORS,
        reasons=REASONS,
        label=lambda code: _label(code, pick_locale(request, web.user_locale)),
        local=lambda at: moment(at, business.timezone),
    )


def _act(business_id: uuid.UUID, lead_id: uuid.UUID, done: str, action: Any) -> Response:
    back = f"/b/{business_id}/leads/{lead_id}"
    try:
        action()
    except ValidationError:
        return redirect(back, N_("Check the fields."), error=True)
    except DomainError as exc:
        return redirect(back, REFUSALS.get(exc.kind, N_("This step is not open.")), error=True)
    return redirect(back, done)


@router.post("/b/{business_id}/leads/{lead_id}/accept", dependencies=[Csrf])
def accept(
    business: CashierBusinessPage, lead: CashierLeadPage, web: SignedIn, db: Db, raw: PostedForm
) -> Response:
    def run() -> None:
        data = AcceptIn.model_validate({"specialist_id": raw.get("specialist_id", "")})
        user = web.user.id if web.user else None
        service.accept(db, web.actor, lead.id, data.specialist_id, user_id=user)

    return _act(business.id, lead.id, N_("The lead is yours."), run)


@router.post("/b/{business_id}/leads/{lead_id}/status", dependencies=[Csrf])
def set_status(
    business: CashierBusinessPage, lead: CashierLeadPage, web: SignedIn, db: Db, raw: PostedForm
) -> Response:
    def run() -> None:
        values: dict[str, Any] = {"status": raw.get("status", ""), "reason": raw.get("reason", "")}
        if raw.get("amount"):
            values["amount_minor"] = minor_units(str(raw.get("amount")), business.currency)
            values["currency"] = business.currency
        data = StatusIn.model_validate(values)
        user = web.user.id if web.user else None
        service.set_status(db, web.actor, lead.id, data, user_id=user)

    return _act(business.id, lead.id, N_("Saved."), run)


@router.post("/b/{business_id}/leads/{lead_id}/dispute", dependencies=[Csrf])
def dispute(
    business: CashierBusinessPage, lead: CashierLeadPage, web: SignedIn, db: Db, raw: PostedForm
) -> Response:
    def run() -> None:
        data = DisputeIn.model_validate(
            {"reason": raw.get("reason", ""), "note": raw.get("note", "")}
        )
        service.dispute(db, web.actor, lead.id, data)

    return _act(business.id, lead.id, N_("The dispute is sent."), run)
