"""The rules of the lead exchange: forms, specialists, requests, answers, hand-offs, disputes.

Who pays whom: a lead received by one business (its form, or its hand-off) and accepted by a
specialist of a partner is paid by that partner to the receiving business, when an agreement
between the two uses the payment model `per_lead`. It accrues once, on acceptance or on a won
outcome as the form's rule says, as an accrual of kind `lead`, so partner statements list it
like a redemption. The paying partner may dispute it within the form's window; an upheld
dispute adds the negative accrual.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crosspromo import clock, identifiers, paging
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from crosspromo.leads import routing
from crosspromo.leads.models import (
    DisputeReason,
    DisputeStatus,
    Lead,
    LeadDispute,
    LeadEvent,
    LeadForm,
    LeadOffer,
    OfferOutcome,
    Scope,
    Specialist,
    SpecialistCategory,
    Status,
)
from crosspromo.leads.schemas import (
    AnswerIn,
    DisputeIn,
    FormCreate,
    HandOffIn,
    RequestIn,
    SpecialistCreate,
    StatusIn,
)
from crosspromo.loyalty import service as loyalty
from crosspromo.matching import relations
from crosspromo.notifications import service as notifications
from crosspromo.offers import money
from crosspromo.partnerships import service as partnerships
from crosspromo.roles import Actor, Role

OPEN = (Status.offered, Status.accepted, Status.contacted)


class Refused(DomainError):
    """A refusal with its own stable problem type."""

    def __init__(self, kind: str, detail: str, *, status: int = 409, field: str | None = None):
        title = "Invalid input" if status == 422 else "Conflict"
        super().__init__(detail, field, kind=kind, status=status, title=title)


# Forms and their members


def create_form(
    session: Session, actor: Actor, business_id: uuid.UUID, data: FormCreate
) -> LeadForm:
    """A request form of the business, of one of its agreements or of its coalition."""
    business = businesses.get(session, actor, business_id, need=Role.manager)
    if data.scope == "partnership":
        proposal, _ = partnerships.get(session, actor, data.proposal_id or uuid.uuid4())
        if business.id not in (proposal.from_business_id, proposal.to_business_id):
            raise NotFound("No such partnership.", field="proposal_id")
        if not partnerships.is_agreed(proposal):
            raise Conflict("The partnership has no agreement yet.", kind="no-agreement")
    if data.scope == "coalition":
        loyalty.coalition_for(session, business, data.coalition_id or uuid.uuid4())
    form = LeadForm(
        business_id=business.id,
        scope=Scope(data.scope),
        proposal_id=data.proposal_id if data.scope == "partnership" else None,
        coalition_id=data.coalition_id if data.scope == "coalition" else None,
        **data.model_dump(
            include={
                "title",
                "intro",
                "categories",
                "response_minutes",
                "reminder_minutes",
                "accrue_on",
                "dispute_days",
                "duplicate_days",
            }
        ),
        districts=[d.model_dump() for d in data.districts],
    )
    session.add(form)
    session.flush()
    return form


def forms_of(session: Session, actor: Actor, business_id: uuid.UUID) -> list[LeadForm]:
    business = businesses.get(session, actor, business_id, need=Role.manager)
    return list(
        session.scalars(
            select(LeadForm)
            .where(LeadForm.business_id == business.id)
            .order_by(LeadForm.created_at)
        )
    )


def public_form(session: Session, form_id: uuid.UUID) -> LeadForm:
    """An active form, for anyone (the public page and its snippet)."""
    form = session.get(LeadForm, form_id)
    if form is None or not form.active:
        raise NotFound("No such form.")
    return form


def members(session: Session, form: LeadForm) -> list[Business]:
    """The businesses whose specialists the form reaches: its owner first, then partners."""
    ids: list[uuid.UUID] = [form.business_id]
    if form.scope is Scope.business:
        ids += [partner for _, partner in partnerships.agreed_partners(session, form.business_id)]
    elif form.scope is Scope.partnership and form.proposal_id is not None:
        ids += [
            partner
            for pid, partner in partnerships.agreed_partners(session, form.business_id)
            if pid == form.proposal_id
        ]
    elif form.scope is Scope.coalition and form.coalition_id is not None:
        ids += [
            m.business_id
            for m in loyalty.members(session, form.coalition_id)
            if m.status.value == "active"
        ]
    ordered = list(dict.fromkeys(ids))
    found = {b.id: b for b in businesses.by_ids(session, set(ordered))}
    return [found[i] for i in ordered if i in found]


# Specialists


def create_specialist(
    session: Session, actor: Actor, business_id: uuid.UUID, data: SpecialistCreate
) -> Specialist:
    """A person of the business who takes leads in some categories, in an area, per day."""
    business = businesses.get(session, actor, business_id, need=Role.manager)
    lat, lon = data.lat, data.lon
    if lat is None and business.lat is not None and business.lon is not None:
        lat, lon = business.lat, business.lon  # the business's own place is their base
    mask = 0
    for d in data.days:
        mask |= 1 << d
    specialist = Specialist(
        business_id=business.id,
        user_id=data.user_id,
        name=data.name,
        categories=list(dict.fromkeys(data.categories)),
        lat=lat,
        lon=lon,
        radius_km=data.radius_km,
        capacity_per_day=data.capacity_per_day,
        days=mask,
        hour_from=data.hour_from,
        hour_until=data.hour_until,
    )
    session.add(specialist)
    session.flush()
    session.add_all(
        SpecialistCategory(specialist_id=specialist.id, category=c) for c in specialist.categories
    )
    session.flush()
    return specialist


def specialists_of(session: Session, actor: Actor, business_id: uuid.UUID) -> list[Specialist]:
    business = businesses.get(session, actor, business_id, need=Role.cashier)
    query = select(Specialist).where(Specialist.business_id == business.id)
    return list(session.scalars(query.order_by(Specialist.name, Specialist.id)))


# The public request


def cycle_order(categories: list[str]) -> list[str]:
    """The categories in deal-cycle order by the curated relations (ties keep the given order)."""
    unique = list(dict.fromkeys(categories))

    def key(code: str) -> int:
        # after(x, y): y comes after x. A category with more steps after it goes first.
        return sum(
            (relations.direction(code, other) == "before")
            - (relations.direction(code, other) == "after")
            for other in unique
        )

    return sorted(unique, key=key)


def _place(
    form: LeadForm, partners: list[Business], address: str, district: str
) -> tuple[str, float | None, float | None]:
    """The request's district and coordinates: from the form's districts, else the members'
    own addresses (no outside geocoder); unknown stays None."""
    named = {d["name"].casefold(): d for d in form.districts}
    if district:
        found = named.get(district.strip().casefold())
        if found is None:
            raise Refused(
                "unknown-district",
                f"{district!r} is not one of this form's districts.",
                status=422,
                field="district",
            )
        return found["name"], float(found["lat"]), float(found["lon"])
    text = address.casefold()
    for name, d in named.items():
        if name and name in text:
            return d["name"], float(d["lat"]), float(d["lon"])
    for b in partners:
        if b.address and b.lat is not None and b.lon is not None and b.address.casefold() in text:
            return "", b.lat, b.lon
    return "", None, None


def _contact(
    data: RequestIn, region: str, secret_key: str
) -> tuple[str, str, str | None, str | None]:
    phone = email = ""
    phone_hash = email_hash = None
    if not data.phone.strip() and not data.email.strip():
        raise Refused(
            "no-contact", "Give a phone or an e-mail so the partner can reach you.", status=422
        )
    if data.phone.strip():
        try:
            phone = identifiers.normalize_phone(data.phone, region)
        except identifiers.IdentifierError:
            raise Refused(
                "phone-invalid", f"{data.phone!r} is not a phone number.", status=422, field="phone"
            ) from None
        phone_hash = identifiers.identifier_hash("phone", phone, secret_key)
    if data.email.strip():
        try:
            email = identifiers.normalize_email(data.email)
        except identifiers.IdentifierError:
            raise Refused(
                "email-invalid",
                f"{data.email!r} is not an e-mail address.",
                status=422,
                field="email",
            ) from None
        email_hash = identifiers.identifier_hash("email", email, secret_key)
    return phone, email, phone_hash, email_hash


def _duplicate(
    session: Session,
    business_id: uuid.UUID,
    category: str,
    hashes: tuple[str | None, str | None],
    since: datetime,
) -> bool:
    phone_hash, email_hash = hashes
    same = []
    if phone_hash:
        same.append(Lead.phone_hash == phone_hash)
    if email_hash:
        same.append(Lead.email_hash == email_hash)
    found = session.scalar(
        select(Lead.id)
        .where(
            Lead.business_id == business_id,
            Lead.category == category,
            Lead.created_at >= since,
            Lead.parent_id.is_(None),
            or_(*same),
        )
        .limit(1)
    )
    return found is not None


def allowed_businesses(session: Session, lead: Lead, form: LeadForm) -> set[uuid.UUID]:
    """Where the lead may go: a hand-off to its partner only; else the form's owner and the
    members the customer consented to."""
    consented = {uuid.UUID(x) for x in lead.consent_business_ids}
    if lead.to_business_id is not None:
        return {lead.to_business_id} & consented
    ids = {b.id for b in members(session, form)}
    return ({form.business_id} | consented) & ids


def submit(
    session: Session,
    form: LeadForm,
    data: RequestIn,
    *,
    secret_key: str,
    now: datetime | None = None,
) -> Lead | None:
    """A customer's request: checked, stored and routed. None for a bot (the honeypot)."""
    now = now or utcnow()
    if data.website.strip():
        return None
    owner = session.get(Business, form.business_id)
    assert owner is not None
    partners = members(session, form)
    unknown = [c for c in data.categories if c not in form.categories]
    if unknown:
        raise Invalid(f"This form does not take {', '.join(unknown)}.", field="categories")
    phone, email, phone_hash, email_hash = _contact(data, owner.country, secret_key)
    ids = {b.id for b in partners}
    consent = [str(b) for b in dict.fromkeys(data.consent) if b in ids]
    if len(consent) != len(set(data.consent)):
        raise Invalid("Consent names a business that is not a partner here.", field="consent")
    if not consent:
        raise Refused(
            "consent-required",
            "Agree to be contacted by the named partners to send the request.",
            status=422,
            field="consent",
        )
    district, lat, lon = _place(form, partners, data.address, data.district)
    steps = cycle_order(data.categories)
    first = steps[0]
    since = now - timedelta(days=form.duplicate_days)
    if form.duplicate_days and _duplicate(
        session, owner.id, first, (phone_hash, email_hash), since
    ):
        raise Refused(
            "duplicate-lead",
            "This phone or e-mail asked for the same thing in the last "
            f"{form.duplicate_days} days.",
        )
    lead = Lead(
        form_id=form.id,
        business_id=owner.id,
        category=first,
        later_steps=steps[1:],
        need=data.need,
        address=data.address,
        district=district,
        lat=lat,
        lon=lon,
        wanted=data.wanted,
        name=data.name,
        phone=phone,
        email=email,
        phone_hash=phone_hash,
        email_hash=email_hash,
        consent_business_ids=consent,
        consent_at=now,
        locale=data.locale,
        status=Status.new,
        created_at=now,
    )
    allowed = ({owner.id} | {uuid.UUID(c) for c in consent}) & ids
    area = routing.specialists_for(session, allowed, first)
    if area and not any(routing.covers(s, lat, lon) for s, _ in area):
        raise Refused(
            "out-of-area",
            "The address is outside the area every partner specialist serves.",
            status=422,
            field="address",
        )
    session.add(lead)
    session.flush()
    routing.log(session, lead, Status.new.value, at=now, business_id=owner.id)
    routing.route(session, lead, form, allowed, now=now)
    return lead


# Reading leads


def _visible(session: Session, actor: Actor, lead: Lead, need: Role) -> Business:
    """The actor's business in this lead (the receiver, or one it was offered to)."""
    ids = [lead.business_id]
    ids += list(session.scalars(select(LeadOffer.business_id).where(LeadOffer.lead_id == lead.id)))
    if lead.to_business_id is not None:
        ids.append(lead.to_business_id)
    roles: list[tuple[Business, Role]] = []
    for business in businesses.by_ids(session, set(ids)):
        role = businesses.role_in(actor, business)
        if role is not None:
            roles.append((business, role))
    if not roles:
        raise NotFound("No such lead.")
    for business, role in roles:
        if role.at_least(need):
            return business
    raise Forbidden(f"This needs the {need.value} role.")


def get_lead(
    session: Session, actor: Actor, lead_id: uuid.UUID, need: Role = Role.cashier
) -> tuple[Lead, Business]:
    """A lead the actor's business received or was offered, and that business."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("No such lead.")
    return lead, _visible(session, actor, lead, need)


def list_leads(
    session: Session,
    actor: Actor,
    business_id: uuid.UUID,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Lead], str | None]:
    """Leads the business received or was offered, newest first (`paging` cursor)."""
    business = businesses.get(session, actor, business_id, need=Role.cashier)
    offered = select(LeadOffer.lead_id).where(LeadOffer.business_id == business.id)
    query = select(Lead).where(
        or_(
            Lead.business_id == business.id,
            Lead.to_business_id == business.id,
            Lead.id.in_(offered),
        )
    )
    if status:
        query = query.where(Lead.status == Status(status))
    query = paging.after(query, (Lead.created_at, Lead.id), cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda lead: (lead.created_at, lead.id))


def offers_of(session: Session, lead: Lead) -> list[LeadOffer]:
    query = select(LeadOffer).where(LeadOffer.lead_id == lead.id)
    return list(session.scalars(query.order_by(LeadOffer.rank)))


def events_of(session: Session, lead: Lead) -> list[LeadEvent]:
    query = select(LeadEvent).where(LeadEvent.lead_id == lead.id)
    return list(session.scalars(query.order_by(LeadEvent.seq)))


def children_of(session: Session, lead: Lead) -> list[Lead]:
    query = select(Lead).where(Lead.parent_id == lead.id)
    return list(session.scalars(query.order_by(Lead.created_at)))


# Routing by hand and by the worker


def route_now(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    *,
    specialist_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> LeadOffer:
    """Offer a waiting lead now, to the best free specialist or to the one named."""
    lead, mine = get_lead(session, actor, lead_id, need=Role.manager)
    if mine.id != lead.business_id:
        raise Forbidden("Only the business that received the lead routes it.")
    if lead.status is not Status.new:
        raise Refused("lead-status", f"The lead is {lead.status.value}; only a new one is routed.")
    form = session.get(LeadForm, lead.form_id)
    assert form is not None
    allowed = allowed_businesses(session, lead, form)
    offer = routing.route(
        session, lead, form, allowed, now=now, specialist_id=specialist_id, user_id=user_id
    )
    if offer is None:
        raise Refused("no-specialist", "No partner specialist is free for this lead now.")
    return offer


def sweep(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """The worker's job: remind before deadlines, move overdue leads on. Returns the count."""
    now = now or utcnow()
    done = routing.remind(session, now, limit)
    for lead_id, offer_id in routing.due_offers(session, now, limit):
        lead = session.get(Lead, lead_id)
        if lead is None or routing.move_on(session, lead, offer_id, now) is False:
            continue
        form = session.get(LeadForm, lead.form_id)
        assert form is not None
        routing.route(session, lead, form, allowed_businesses(session, lead, form), now=now)
        done += 1
    return done


def remind_and_move_on(session: Session) -> int:
    """Registered with the worker (one transaction per tick)."""
    return sweep(session)


# Answers: accept, contacted, won, lost


def _specialist_of(session: Session, actor: Actor, specialist_id: uuid.UUID) -> Specialist:
    specialist = session.get(Specialist, specialist_id)
    if specialist is None:
        raise NotFound("No such specialist.", field="specialist_id")
    businesses.get(session, actor, specialist.business_id, need=Role.cashier)
    return specialist


def accept(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    specialist_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Lead:
    """The specialist takes the lead; exactly one acceptance wins (a conditional UPDATE)."""
    now = now or utcnow()
    specialist = _specialist_of(session, actor, specialist_id)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("No such lead.")
    offer = session.scalar(
        select(LeadOffer).where(
            LeadOffer.lead_id == lead.id, LeadOffer.specialist_id == specialist.id
        )
    )
    if offer is None:
        raise NotFound("The lead was not offered to this specialist.")
    won = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.status == Status.offered, Lead.offer_id == offer.id)
        .values(status=Status.accepted, accepted_at=now, specialist_id=specialist.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(lead)
    if won.rowcount != 1:  # type: ignore[attr-defined]
        if lead.specialist_id == specialist.id and lead.status is not Status.offered:
            raise Refused("lead-taken", f"The lead is already {lead.status.value}.")
        if offer.outcome is OfferOutcome.moved_on or lead.offer_id != offer.id:
            raise Refused(
                "lead-moved-on", "The deadline passed and the lead moved on to another specialist."
            )
        raise Refused("lead-taken", "Another specialist accepted the lead first.")
    seconds = max(0, int((now - offer.offered_at).total_seconds()))
    offer.outcome, offer.answered_at, offer.response_seconds = OfferOutcome.accepted, now, seconds
    routing.log(
        session,
        lead,
        Status.accepted.value,
        at=now,
        business_id=specialist.business_id,
        specialist_id=specialist.id,
        user_id=user_id,
    )
    form = session.get(LeadForm, lead.form_id)
    assert form is not None
    if form.accrue_on == "accepted":
        charge(session, lead, specialist.business_id, now)
    _tell_sender(session, lead, specialist.business_id, "accepted")
    return lead


def set_status(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    data: StatusIn,
    *,
    user_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Lead:
    """The specialist's business records contact, a win (with the amount) or a loss (why)."""
    now = now or utcnow()
    lead, mine = get_lead(session, actor, lead_id, need=Role.cashier)
    specialist = session.get(Specialist, lead.specialist_id) if lead.specialist_id else None
    taken = lead.status in (Status.accepted, Status.contacted)
    # The receiving business may close a lead nobody took as lost.
    unrouted = data.status == "lost" and mine.id == lead.business_id and lead.status is Status.new
    if (specialist is None or specialist.business_id != mine.id or not taken) and not unrouted:
        raise Refused("lead-status", f"The lead is {lead.status.value}; this step is not open.")
    if data.status == "contacted" and lead.status is not Status.accepted:
        raise Refused("lead-status", f"The lead is {lead.status.value}; it was contacted already.")
    lead.status = Status(data.status)
    if data.status == "won":
        lead.amount_minor = data.amount_minor
        lead.currency = (data.currency or mine.currency).upper()
    if data.status == "lost":
        lead.lost_reason = data.reason.strip()
    if data.status in ("won", "lost"):
        lead.closed_at = now
    routing.log(
        session,
        lead,
        data.status,
        at=now,
        business_id=mine.id,
        specialist_id=lead.specialist_id,
        user_id=user_id,
        note=data.reason.strip(),
    )
    session.flush()
    form = session.get(LeadForm, lead.form_id)
    assert form is not None
    if data.status == "won":
        if form.accrue_on == "won":
            charge(session, lead, mine.id, now)
        _next_step(session, lead, form, now)
    _tell_sender(session, lead, mine.id, data.status)
    return lead


def _tell_sender(session: Session, lead: Lead, partner_id: uuid.UUID, status: str) -> None:
    """A lead passed to a partner: its acceptance and outcome come back to the sender."""
    if lead.business_id == partner_id:
        return
    partner = session.get(Business, partner_id)
    notifications.notify(
        session,
        business_id=lead.business_id,
        kind="lead.outcome",
        params={"partner": partner.name if partner else "", "status": status},
        key=f"lead.outcome:{lead.id}:{status}",
        link=f"/b/{lead.business_id}/leads/{lead.id}",
    )


# What a follow-up or handed-off lead copies of its customer: where, when, who, how to reach.
CUSTOMER_FIELDS = (
    "address",
    "district",
    "lat",
    "lon",
    "wanted",
    "name",
    "phone",
    "email",
    "phone_hash",
    "email_hash",
    "locale",
)


def _customer_of(lead: Lead) -> dict[str, Any]:
    return {k: getattr(lead, k) for k in CUSTOMER_FIELDS}


def _next_step(session: Session, lead: Lead, form: LeadForm, now: datetime) -> Lead | None:
    """A won step with more steps in the customer's deal cycle: the next one, routed."""
    if not lead.later_steps:
        return None
    follow = Lead(
        form_id=lead.form_id,
        business_id=lead.business_id,
        parent_id=lead.id,
        category=lead.later_steps[0],
        later_steps=lead.later_steps[1:],
        need=lead.need,
        consent_business_ids=lead.consent_business_ids,
        consent_at=lead.consent_at,
        **_customer_of(lead),
        status=Status.new,
        created_at=now,
    )
    session.add(follow)
    session.flush()
    routing.log(session, follow, Status.new.value, at=now)
    routing.route(session, follow, form, allowed_businesses(session, follow, form), now=now)
    return follow


# Pay per lead and disputes


def per_lead_terms(
    session: Session, payee_id: uuid.UUID, payer_id: uuid.UUID
) -> tuple[uuid.UUID, int, str] | None:
    """(agreement, amount, currency) of the first agreement between the two paying per lead."""
    for proposal_id, partner in partnerships.agreed_partners(session, payee_id):
        if partner != payer_id:
            continue
        found = partnerships.agreed_option(session, proposal_id)
        if found is None:
            continue
        _, option = found
        if option.get("payment_model") == "per_lead" and option.get("payment_minor"):
            return proposal_id, int(option["payment_minor"]), str(option.get("currency") or "")
    return None


def charge(session: Session, lead: Lead, payer_id: uuid.UUID, now: datetime) -> bool:
    """Accrue the lead's price once (the conditional UPDATE on charged_at); False if none."""
    if payer_id == lead.business_id:
        return False
    terms = per_lead_terms(session, lead.business_id, payer_id)
    if terms is None:
        return False
    proposal_id, amount, currency = terms
    payee = session.get(Business, lead.business_id)
    currency = currency or (payee.currency if payee else "")
    first = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.charged_at.is_(None))
        .values(
            charged_at=now,
            charge_proposal_id=proposal_id,
            charge_minor=amount,
            charge_currency=currency,
        )
        .execution_options(synchronize_session=False)
    )
    if first.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(lead)
    money.accrue_lead(
        session,
        proposal_id=proposal_id,
        payer_business_id=payer_id,
        payee_business_id=lead.business_id,
        amount_minor=amount,
        currency=currency,
        at=now,
    )
    routing.log(session, lead, "charged", at=now, business_id=payer_id)
    return True


def _payer(session: Session, lead: Lead) -> uuid.UUID | None:
    specialist = session.get(Specialist, lead.specialist_id) if lead.specialist_id else None
    return specialist.business_id if specialist else None


def dispute(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    data: DisputeIn,
    *,
    now: datetime | None = None,
) -> LeadDispute:
    """The paying partner disputes a charged lead (duplicate, spam, out of area) in time."""
    now = now or utcnow()
    lead, mine = get_lead(session, actor, lead_id, need=Role.manager)
    if lead.charged_at is None or _payer(session, lead) != mine.id:
        raise Refused("not-charged", "This business was not charged for the lead.")
    form = session.get(LeadForm, lead.form_id)
    assert form is not None
    closes = lead.charged_at + timedelta(days=form.dispute_days)
    if now > closes:
        raise Refused(
            "dispute-window-closed",
            f"Disputes were open for {form.dispute_days} days after the charge, "
            f"until {closes.isoformat(timespec='minutes')}.",
        )
    if session.scalar(select(LeadDispute.id).where(LeadDispute.lead_id == lead.id)) is not None:
        raise Refused("dispute-exists", "The lead is already disputed.")
    found = LeadDispute(
        lead_id=lead.id,
        business_id=mine.id,
        reason=DisputeReason(data.reason),
        note=data.note,
        created_at=now,
    )
    session.add(found)
    session.flush()
    routing.log(session, lead, "disputed", at=now, business_id=mine.id)
    notifications.notify(
        session,
        business_id=lead.business_id,
        kind="lead.disputed",
        params={"partner": mine.name, "reason": data.reason},
        key=f"lead.disputed:{lead.id}",
        link=f"/b/{lead.business_id}/leads/{lead.id}",
    )
    return found


def dispute_of(session: Session, lead: Lead) -> LeadDispute | None:
    return session.scalar(select(LeadDispute).where(LeadDispute.lead_id == lead.id))


def answer_dispute(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    data: AnswerIn,
    *,
    now: datetime | None = None,
) -> LeadDispute:
    """The receiving business answers: upheld reverses the charge, rejected keeps it."""
    now = now or utcnow()
    lead, mine = get_lead(session, actor, lead_id, need=Role.manager)
    if mine.id != lead.business_id:
        raise Forbidden("Only the business that received the lead answers its dispute.")
    found = dispute_of(session, lead)
    if found is None:
        raise NotFound("The lead is not disputed.")
    answered = session.execute(
        update(LeadDispute)
        .where(LeadDispute.id == found.id, LeadDispute.status == DisputeStatus.open)
        .values(
            status=DisputeStatus.upheld if data.uphold else DisputeStatus.rejected,
            answer=data.answer,
            answered_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(found)
    if answered.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("lead-status", f"The dispute was already {found.status.value}.")
    payer = _payer(session, lead)
    if data.uphold and payer is not None and lead.charge_proposal_id and lead.charge_minor:
        money.accrue_lead(
            session,
            proposal_id=lead.charge_proposal_id,
            payer_business_id=payer,
            payee_business_id=lead.business_id,
            amount_minor=-lead.charge_minor,
            currency=lead.charge_currency or mine.currency,
            at=now,
        )
    routing.log(session, lead, f"dispute_{found.status.value}", at=now, business_id=mine.id)
    return found


# Hand-off between partners


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hand_off(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    data: HandOffIn,
    *,
    user_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[Lead, str | None]:
    """Pass the customer on to a partner: a new lead for the partner's specialists. Without
    the customer's consent to that partner it waits for them to confirm (token returned)."""
    now = now or utcnow()
    lead, mine = get_lead(session, actor, lead_id, need=Role.manager)
    if data.to_business_id == mine.id:
        raise Invalid("Pass the customer to a partner, not to yourself.", field="to_business_id")
    partners = {p for _, p in partnerships.agreed_partners(session, mine.id)}
    if data.to_business_id not in partners:
        raise NotFound("No agreement with that business.", field="to_business_id")
    form = session.get(LeadForm, lead.form_id)
    assert form is not None
    consented = str(data.to_business_id) in lead.consent_business_ids
    token = None if consented else secrets.token_urlsafe(24)
    child = Lead(
        form_id=lead.form_id,
        business_id=mine.id,
        parent_id=lead.id,
        to_business_id=data.to_business_id,
        category=data.category,
        later_steps=[],
        need=data.note or lead.need,
        **_customer_of(lead),
        consent_business_ids=list(lead.consent_business_ids),
        consent_at=lead.consent_at if consented else None,
        consent_token_hash=_token_hash(token) if token else None,
        status=Status.new if consented else Status.awaiting_consent,
        created_at=now,
    )
    session.add(child)
    session.flush()
    routing.log(
        session,
        child,
        child.status.value,
        at=now,
        business_id=mine.id,
        user_id=user_id,
    )
    if consented:
        routing.route(session, child, form, allowed_businesses(session, child, form), now=now)
    return child, token


def confirm_consent(
    session: Session, token: str, *, now: datetime | None = None
) -> tuple[Lead, Business]:
    """The customer's yes to a hand-off (the confirmation link): the lead is routed."""
    now = now or utcnow()
    lead = session.scalar(select(Lead).where(Lead.consent_token_hash == _token_hash(token)))
    if lead is None or lead.to_business_id is None:
        raise NotFound("This link is not known.")
    partner = session.get(Business, lead.to_business_id)
    assert partner is not None
    if lead.status is not Status.awaiting_consent:
        return lead, partner
    lead.consent_business_ids = [*lead.consent_business_ids, str(partner.id)]
    lead.consent_at = now
    lead.status = Status.new
    routing.log(session, lead, "consented", at=now)
    session.flush()
    form = session.get(LeadForm, lead.form_id)
    assert form is not None
    routing.route(session, lead, form, allowed_businesses(session, lead, form), now=now)
    return lead, partner


def consent_preview(session: Session, token: str) -> tuple[Lead, Business, Business]:
    """The lead behind a confirmation link, who passes it and to whom."""
    lead = session.scalar(select(Lead).where(Lead.consent_token_hash == _token_hash(token)))
    if lead is None or lead.to_business_id is None:
        raise NotFound("This link is not known.")
    sender = session.get(Business, lead.business_id)
    partner = session.get(Business, lead.to_business_id)
    assert sender is not None and partner is not None
    return lead, sender, partner


def local(instant: datetime | None, business: Business) -> str:
    """An instant as the business's local time, for pages and the CLI."""
    if instant is None:
        return ""
    return instant.astimezone(clock.zone(business.timezone)).strftime("%Y-%m-%d %H:%M")


def lead_out(session: Session, lead: Lead, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        c: getattr(lead, c)
        for c in (
            "id",
            "form_id",
            "business_id",
            "parent_id",
            "to_business_id",
            "category",
            "later_steps",
            "need",
            "district",
            "specialist_id",
            "deadline_at",
            "amount_minor",
            "currency",
            "lost_reason",
            "charge_minor",
            "charge_currency",
            "created_at",
        )
    }
    out["status"] = lead.status.value
    if detail:
        out["offers"] = [
            {
                "specialist_id": o.specialist_id,
                "business_id": o.business_id,
                "rank": o.rank,
                "why": o.why,
                "offered_at": o.offered_at,
                "deadline_at": o.deadline_at,
                "outcome": o.outcome.value,
            }
            for o in offers_of(session, lead)
        ]
        out["events"] = [
            {
                "status": e.status,
                "business_id": e.business_id,
                "specialist_id": e.specialist_id,
                "user_id": e.user_id,
                "note": e.note,
                "at": e.at,
            }
            for e in events_of(session, lead)
        ]
    return out
