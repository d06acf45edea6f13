"""Offers and their codes; checking a code at the till; redeeming it exactly once; reversing.

Exactly once: a redemption moves three counters (the code's uses, the offer's uses, the
customer's uses) each by a conditional `UPDATE ... WHERE uses < limit`, in the transaction
that writes the redemption row. On PostgreSQL the UPDATE takes the row lock, on SQLite the
database write lock, so of two cashiers redeeming the last use at once one wins and the other
is told the code is used up. A reversal is a new row, unique per redemption, that gives the
uses back by the same conditional UPDATEs.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo import clock, paging
from crosspromo.accounts.models import Membership
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Campaign, Stage
from crosspromo.customers import service as customers
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, DomainError, Invalid, NotFound
from crosspromo.identifiers import (
    IdentifierError,
    identifier_hash,
    normalize_email,
    normalize_phone,
)
from crosspromo.offers import codes, money, webhooks
from crosspromo.offers.models import (
    Benefit,
    Code,
    CodeKind,
    CustomerUse,
    Offer,
    Redemption,
)
from crosspromo.offers.schemas import MAX_ORDER_MINOR, CodesCreate, OfferCreate, Till
from crosspromo.roles import Actor, Role
from crosspromo.web.i18n import N_

LIVE = (Stage.preparation, Stage.agreed, Stage.running)


class Refused(DomainError):
    """The till's answer when a code cannot be used: a stable kind and a sentence."""

    def __init__(self, kind: str, detail: str, status: int = 422) -> None:
        super().__init__(detail, kind=kind, status=status, title="Code not accepted")


# --- offers and codes -------------------------------------------------------------------


def create_offer(
    session: Session, actor: Actor, campaign_id: uuid.UUID, data: OfferCreate
) -> Offer:
    """An offer in a campaign: issued by one member, honoured by another."""
    campaign, _ = campaigns.get(session, actor, campaign_id)
    if campaign.stage not in LIVE:
        raise Conflict("Offers are added before and while the campaign runs.", kind="wrong-stage")
    members = set(campaigns.member_ids(session, campaign.id))
    for name in ("issuer_business_id", "honouring_business_id"):
        if getattr(data, name) not in members:
            raise Invalid("That business is not a member of this campaign.", field=name)
    percent_bp = int(data.percent * 100) if data.percent is not None else None
    offer = Offer(
        campaign_id=campaign.id,
        issuer_business_id=data.issuer_business_id,
        honouring_business_id=data.honouring_business_id,
        title=data.title,
        description=data.description,
        benefit=data.benefit,
        percent_bp=percent_bp,
        amount_minor=data.amount_minor,
        item=data.item,
        currency=campaign.currency,
        min_order_minor=data.min_order_minor,
        needs_partner_card=data.needs_partner_card,
        new_customers_only=data.new_customers_only,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        days=sum(1 << d for d in set(data.days)),
        hour_from=data.hour_from,
        hour_until=data.hour_until,
        total_limit=data.total_limit,
        per_customer_limit=data.per_customer_limit,
        stackable=data.stackable,
        reversal_minutes=data.reversal_minutes,
        code_prefix=data.code_prefix.upper(),
    )
    session.add(offer)
    session.flush()
    return offer


def get_offer(
    session: Session, actor: Actor, offer_id: uuid.UUID, need: Role = Role.manager
) -> Offer:
    """An offer of a campaign the actor's business is a member of."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("No such offer.")
    campaigns.get(session, actor, offer.campaign_id, need=need)
    return offer


def offers_of(session: Session, campaign_id: uuid.UUID) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer).where(Offer.campaign_id == campaign_id).order_by(Offer.created_at)
        )
    )


def _insert_ids(session: Session, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Insert codes, skipping any that already exist at the business; the ids inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    made: list[uuid.UUID] = []
    for start in range(0, len(rows), 500):
        statement = dialect.insert(Code).values(rows[start : start + 500])
        statement = statement.on_conflict_do_nothing(
            index_elements=["honouring_business_id", "code"]
        ).returning(Code.id)
        made += list(session.execute(statement).scalars())
    return made


def add_codes(session: Session, actor: Actor, offer_id: uuid.UUID, data: CodesCreate) -> int:
    """Unique codes by pattern, a shared code, a secret word or referral links."""
    offer = get_offer(session, actor, offer_id)
    base = {
        "offer_id": offer.id,
        "honouring_business_id": offer.honouring_business_id,
        "staff_user_id": data.staff_user_id,
        "label": data.label,
        "uses": 0,
        "clicks": 0,
        "created_at": utcnow(),
    }
    if data.staff_user_id is not None:
        issuer = session.get(Business, offer.issuer_business_id)
        assert issuer is not None
        member = session.scalar(
            select(Membership.id).where(
                Membership.user_id == data.staff_user_id,
                Membership.workspace_id == issuer.workspace_id,
            )
        )
        if member is None:
            raise Invalid("That person does not work for the issuing business.", "staff_user_id")
    kind = CodeKind(data.kind)
    if kind in (CodeKind.shared, CodeKind.word):
        text = codes.normalize(data.text)
        if not 3 <= len(text) <= 64:
            raise Invalid("Give the code or word: 3 to 64 letters or digits.", field="text")
        row = {**base, "id": uuid.uuid4(), "code": text, "kind": kind, "max_uses": None}
        if not _insert_ids(session, [row]):
            raise Conflict("This business already has that code.", field="text")
        made = 1
    else:
        pattern = codes.CodePattern(
            prefix=offer.code_prefix, groups=data.groups, group_size=data.group_size
        )
        # Collisions at 40+ bits are rare; the unique index skips them and we top up.
        made, seen = 0, set[str]()
        while made < data.count:
            batch = [
                {
                    **base,
                    "id": uuid.uuid4(),
                    "code": codes.normalize(text),
                    "kind": kind,
                    "max_uses": 1 if kind is CodeKind.unique else None,
                }
                for text in codes.generate(
                    pattern, data.count - made, taken=lambda t: codes.normalize(t) in seen
                )
            ]
            seen.update(str(row["code"]) for row in batch)
            made += len(_insert_ids(session, batch))
    session.flush()
    return made


def list_codes(
    session: Session, offer: Offer, *, limit: int = 500, cursor: str | None = None
) -> list[Code]:
    """The offer's codes in code order, a page at a time (`paging` cursor of `code_key`)."""
    query = select(Code).where(Code.offer_id == offer.id)
    query = paging.after(query, (Code.code,), cursor, descending=False)
    return list(session.scalars(query.limit(limit)))


def code_key(code: Code) -> tuple[str]:
    """A code's place in the offer's list: its code, unique within the offer (one honouring
    business), so no tie-break is needed."""
    return (code.code,)


# --- the till -----------------------------------------------------------------------------


@dataclass
class Condition:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class LastUse:
    at: datetime
    business_name: str
    timezone: str


def last_use(session: Session, code_id: uuid.UUID) -> LastUse | None:
    """The latest standing use of a code: when, and at which business."""
    reversed_ids = select(Redemption.reverses_id).where(Redemption.reverses_id.is_not(None))
    row = session.execute(
        select(Redemption.at, Business.name, Business.timezone)
        .join(Business, Business.id == Redemption.business_id)
        .where(
            Redemption.code_id == code_id,
            Redemption.reverses_id.is_(None),
            Redemption.id.not_in(reversed_ids),
        )
        .order_by(Redemption.at.desc(), Redemption.id.desc())
        .limit(1)
    ).first()
    return LastUse(row[0], row[1], row[2]) if row else None


@dataclass
class Verdict:
    """What the till shows: the offer, each condition met or not, the benefit."""

    offer: Offer
    code: Code
    conditions: list[Condition] = field(default_factory=list)
    discount_minor: int = 0
    customer_hash: str | None = None
    # A used-up code: when and where it was last used (the redeeming business's name and zone).
    last_use: LastUse | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.conditions)

    @property
    def failed(self) -> Condition | None:
        return next((c for c in self.conditions if not c.ok), None)


def _customer_hash(business: Business, text: str, secret_key: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        if "@" in text:
            return identifier_hash("email", normalize_email(text), secret_key)
        return identifier_hash("phone", normalize_phone(text, business.country), secret_key)
    except IdentifierError as exc:
        raise Invalid(str(exc), field="customer") from None


def discount(offer: Offer, order_minor: int) -> int:
    """The money off an order, in minor units, rounded half up; never more than the order."""
    if offer.benefit is Benefit.percent and offer.percent_bp is not None:
        return min(order_minor, (order_minor * offer.percent_bp + 5000) // 10000)
    if offer.benefit is Benefit.fixed and offer.amount_minor is not None:
        return min(order_minor, offer.amount_minor)
    if offer.benefit is Benefit.bundle_price and offer.amount_minor is not None:
        return max(0, order_minor - offer.amount_minor)
    return 0  # a gift or a free item: no money off the order


# The till's statements, built once: building them anew on every redemption was a good
# part of its CPU (bench/redemption_service.py). Values are bound when they run.
_FIND = (
    select(Code, Offer, Campaign.stage)
    .join(Offer, Offer.id == Code.offer_id)
    .join(Campaign, Campaign.id == Offer.campaign_id)
    .where(Code.honouring_business_id == bindparam("business"), Code.code == bindparam("code"))
)
_USE_CODE = (
    update(Code)
    .where(Code.id == bindparam("code_id"), (Code.max_uses.is_(None)) | (Code.uses < Code.max_uses))
    .values(uses=Code.uses + 1)
    .execution_options(synchronize_session=False)
)
_USE_OFFER = (
    update(Offer)
    .where(
        Offer.id == bindparam("offer_id"),
        (Offer.total_limit.is_(None)) | (Offer.uses < Offer.total_limit),
    )
    .values(uses=Offer.uses + 1)
    .execution_options(synchronize_session=False)
)


def _find(session: Session, business: Business, text: str) -> tuple[Code, Offer, Stage | None]:
    """The code at this business, its offer and its campaign's stage; unknown and others'
    codes get the same answer."""
    normalized = codes.normalize(text)
    # One round trip: the till runs this on every check and redemption.
    found = session.execute(_FIND, {"business": business.id, "code": normalized}).first()
    if found is not None:
        return found[0], found[1], found[2]
    if _mistyped(session, business, normalized):
        raise Refused("mistyped-code", MESSAGES["mistyped-code"])
    raise Refused("unknown-code", MESSAGES["unknown-code"])


def _mistyped(session: Session, business: Business, normalized: str) -> bool:
    """The shape of a generated code whose check character fails (no look-up involved).

    A code that starts with an offer's prefix is read with that prefix only; the bare form
    (a cashier may skip the printed prefix) is tried only when no prefix matches. Reading
    "BREAD..." as a prefix-less body as well would call a well-formed unknown code a typo.
    """
    prefixes = set(
        session.scalars(
            select(Offer.code_prefix).where(Offer.honouring_business_id == business.id).distinct()
        )
    )
    readings = [(p, normalized[len(p) :]) for p in prefixes if p and normalized.startswith(p)]
    if not readings:
        readings = [(p, normalized) for p in prefixes]
    shaped = [
        (prefix, body)
        for prefix, body in readings
        if len(body) >= 9 and all(ch in codes.ALPHABET for ch in body)
    ]
    return bool(shaped) and all(
        codes.check_char(prefix, body[:-1]) != body[-1] for prefix, body in shaped
    )


def check(
    session: Session,
    business: Business,
    data: Till,
    *,
    secret_key: str,
    now: datetime | None = None,
) -> Verdict:
    """Evaluate a code for an order at this business, with no effect."""
    if data.order_minor > MAX_ORDER_MINOR:
        raise Refused("absurd-amount", MESSAGES["absurd-amount"])
    code, offer, campaign_stage = _find(session, business, data.code)
    verdict = Verdict(offer=offer, code=code)
    add = verdict.conditions.append
    local = (now or utcnow()).astimezone(ZoneInfo(business.timezone))
    today = local.date()
    add(Condition("campaign", campaign_stage is Stage.running, "campaign-not-running"))
    if offer.valid_from:
        add(Condition("valid_from", today >= offer.valid_from, "not-yet-valid"))
    if offer.valid_until:
        add(Condition("valid_until", today <= offer.valid_until, "expired"))
    add(Condition("day", bool(offer.days & (1 << local.weekday())), "wrong-day"))
    add(Condition("hours", offer.hour_from <= local.hour < offer.hour_until, "wrong-hour"))
    if offer.min_order_minor:
        add(Condition("min_order", data.order_minor >= offer.min_order_minor, "below-threshold"))
    if offer.needs_partner_card:
        add(Condition("partner_card", data.partner_card_shown, "needs-partner-card"))
    if code.max_uses is not None:
        add(Condition("code_uses", code.uses < code.max_uses, "code-used"))
        if code.uses >= code.max_uses:
            verdict.last_use = last_use(session, code.id)
    if offer.total_limit is not None:
        add(Condition("total_limit", offer.uses < offer.total_limit, "exhausted"))
    customer = _customer_hash(business, data.customer, secret_key)
    verdict.customer_hash = customer
    if offer.new_customers_only or offer.per_customer_limit:
        add(Condition("customer", customer is not None, "needs-customer"))
    if customer and offer.new_customers_only:
        old = customers.known(session, business_id=business.id, identifier_hash=customer)
        add(Condition("new_customer", not old, "not-new-customer"))
    if customer and offer.per_customer_limit:
        used = session.scalar(
            select(CustomerUse.uses).where(
                CustomerUse.offer_id == offer.id, CustomerUse.customer_hash == customer
            )
        )
        add(Condition("per_customer", (used or 0) < offer.per_customer_limit, "customer-limit"))
    if not offer.stackable and data.order_ref:
        add(Condition("stacking", not _stacked(session, business, data.order_ref), "not-stackable"))
    verdict.discount_minor = discount(offer, data.order_minor)
    return verdict


def _stacked(session: Session, business: Business, order_ref: str) -> bool:
    """Whether the receipt already carries a redemption that was not reversed."""
    reversed_ids = select(Redemption.reverses_id).where(Redemption.reverses_id.is_not(None))
    found = session.scalar(
        select(func.count())
        .select_from(Redemption)
        .where(
            Redemption.business_id == business.id,
            Redemption.order_ref == order_ref,
            Redemption.reverses_id.is_(None),
            Redemption.id.not_in(reversed_ids),
        )
    )
    return bool(found)


MESSAGES = {
    "unknown-code": N_("No such code here. Check it with the customer."),
    "mistyped-code": N_("A character of the code is mistyped; check it with the customer."),
    "absurd-amount": N_("The order amount is not believable; check it."),
    "reversal-of-reversal": N_("A reversal cannot be reversed."),
    "already-reversed": N_("This redemption was already reversed."),
    "campaign-not-running": N_("The campaign is not running."),
    "not-yet-valid": N_("The offer is not valid yet."),
    "expired": N_("The offer has expired."),
    "wrong-day": N_("The offer is not valid on this day of the week."),
    "wrong-hour": N_("The offer is not valid at this hour."),
    "below-threshold": N_("The order is below the offer's minimum."),
    "needs-partner-card": N_("The customer must show the partner's card."),
    "code-used": N_("This code was already used."),
    "exhausted": N_("The offer is used up."),
    "needs-customer": N_("Enter the customer's phone or e-mail for this offer."),
    "not-new-customer": N_("This offer is for new customers only."),
    "customer-limit": N_("This customer already used the offer as often as allowed."),
    "not-stackable": N_("This receipt already has an offer; they do not combine."),
}


def _refuse(verdict: Verdict) -> None:
    failed = verdict.failed
    if failed is not None:
        raise Refused(failed.detail, MESSAGES.get(failed.detail, failed.detail), status=409)


def _bump(session: Session, statement: Any, params: dict[str, Any] | None = None) -> bool:
    """Run a conditional UPDATE of one row; whether it matched (the use was granted)."""
    result = session.execute(statement.execution_options(synchronize_session=False), params)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def redeem(
    session: Session,
    actor: Actor,
    data: Till,
    *,
    secret_key: str,
    cashier_user_id: uuid.UUID | None = None,
    now: datetime | None = None,
    business: Business | None = None,
    before_lock: Callable[[Redemption], None] | None = None,
) -> Redemption:
    """Use a code for an order, exactly once; cashiers and up of the honouring business.

    `business` when the caller already checked the actor's cashier role there (the route's
    typed permission). `before_lock` adds the caller's own writes of this redemption (audit
    row, stored answer) before the offer's row is locked.

    Every read comes first, then the writes; the conditional UPDATE of the offer, the one row
    every till of the offer shares, comes last, just before the commit, so its lock is held
    for no other round trip (tests/offers/test_round_trips.py counts them).
    """
    if business is None:
        business = businesses.get(session, actor, data.business_id, need=Role.cashier)
    elif business.id != data.business_id:
        raise NotFound("No such business.")
    verdict = check(session, business, data, secret_key=secret_key, now=now)
    _refuse(verdict)
    offer, code = verdict.offer, verdict.code
    terms = money.terms_for(session, offer)
    endpoint_ids = webhooks.active_endpoints(session, business.id)
    # Built before the first write: on SQLite the write lock is held from it to the commit.
    redemption = Redemption(
        id=uuid.uuid4(),
        offer_id=offer.id,
        code_id=code.id,
        business_id=business.id,
        referrer_business_id=offer.issuer_business_id,
        staff_user_id=code.staff_user_id,
        order_minor=data.order_minor,
        discount_minor=verdict.discount_minor,
        currency=offer.currency,
        order_ref=data.order_ref,
        customer_hash=verdict.customer_hash,
        reason="",
        cashier_user_id=cashier_user_id,
        at=now or utcnow(),
    )
    earned = money.accruals(redemption, terms)
    # The checks above read; these conditional UPDATEs decide, under the lock.
    if not _bump(session, _USE_CODE, {"code_id": code.id}):
        raise Refused("code-used", MESSAGES["code-used"], status=409)
    if verdict.customer_hash and offer.per_customer_limit:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(CustomerUse)
            .values(offer_id=offer.id, customer_hash=verdict.customer_hash, uses=0)
            .on_conflict_do_nothing(index_elements=["offer_id", "customer_hash"])
        )
        if not _bump(
            session,
            update(CustomerUse)
            .where(
                CustomerUse.offer_id == offer.id,
                CustomerUse.customer_hash == verdict.customer_hash,
                CustomerUse.uses < offer.per_customer_limit,
            )
            .values(uses=CustomerUse.uses + 1),
        ):
            raise Refused("customer-limit", MESSAGES["customer-limit"], status=409)
    # One flush: the redemption goes before its accruals (`Accrual.redemption`).
    session.add(redemption)
    session.add_all(earned)
    webhooks.announce(session, "redemption.created", redemption, endpoint_ids)
    if before_lock is not None:
        before_lock(redemption)
    session.flush()
    # Last: the hot row, locked until the commit that follows.
    if not _bump(session, _USE_OFFER, {"offer_id": offer.id}):
        raise Refused("exhausted", MESSAGES["exhausted"], status=409)
    return redemption


def get_redemption(session: Session, actor: Actor, redemption_id: uuid.UUID) -> Redemption:
    """A redemption at one of the actor's businesses (cashiers included)."""
    found = session.get(Redemption, redemption_id)
    if found is None:
        raise NotFound("No such redemption.")
    businesses.get(session, actor, found.business_id, need=Role.cashier)
    return found


def reverse(
    session: Session,
    actor: Actor,
    redemption_id: uuid.UUID,
    reason: str,
    *,
    cashier_user_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Undo a redemption within the offer's window (a refund); gives the uses back once."""
    original = get_redemption(session, actor, redemption_id)
    if original.reverses_id is not None:
        raise Refused("reversal-of-reversal", MESSAGES["reversal-of-reversal"], status=409)
    offer = session.get(Offer, original.offer_id)
    assert offer is not None
    now = now or utcnow()
    if now - original.at > timedelta(minutes=offer.reversal_minutes):
        raise Refused(
            "reversal-window-closed",
            f"Reversals are allowed within {offer.reversal_minutes} minutes of the redemption.",
            status=409,
        )
    already = session.scalar(select(Redemption.id).where(Redemption.reverses_id == original.id))
    if already is not None:
        raise Refused("already-reversed", MESSAGES["already-reversed"], status=409)
    reversal = Redemption(
        offer_id=original.offer_id,
        code_id=original.code_id,
        business_id=original.business_id,
        referrer_business_id=original.referrer_business_id,
        staff_user_id=original.staff_user_id,
        order_minor=-original.order_minor,
        discount_minor=-original.discount_minor,
        currency=original.currency,
        order_ref=original.order_ref,
        customer_hash=original.customer_hash,
        reverses_id=original.id,
        reason=reason,
        cashier_user_id=cashier_user_id,
        at=now,
    )
    session.add(reversal)
    # The unique reverses_id decides between two simultaneous reversals: flush raises.
    session.flush()
    session.execute(
        update(Code).where(Code.id == original.code_id, Code.uses > 0).values(uses=Code.uses - 1)
    )
    if original.customer_hash:
        session.execute(
            update(CustomerUse)
            .where(
                CustomerUse.offer_id == original.offer_id,
                CustomerUse.customer_hash == original.customer_hash,
                CustomerUse.uses > 0,
            )
            .values(uses=CustomerUse.uses - 1)
        )
    money.undo(session, original, reversal)
    webhooks.announce(session, "redemption.reversed", reversal)
    # The offer's row last, as in `redeem` (the same lock order: no deadlock between them).
    session.execute(
        update(Offer)
        .where(Offer.id == original.offer_id, Offer.uses > 0)
        .values(uses=Offer.uses - 1)
    )
    return reversal


def new_link_token() -> str:
    return secrets.token_urlsafe(9)


def recent(
    session: Session,
    actor: Actor,
    business_id: uuid.UUID,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> list[Redemption]:
    """The latest redemptions and reversals at a business the actor works for."""
    business = businesses.get(session, actor, business_id, need=Role.cashier)
    query = select(Redemption).where(Redemption.business_id == business.id)
    return list(
        session.scalars(paging.after(query, (Redemption.at, Redemption.id), cursor).limit(limit))
    )


def code_counts(session: Session, campaign_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
    """Per offer of the campaign: how many codes, how many of them used at least once."""
    rows = session.execute(
        select(Code.offer_id, func.count(), func.count().filter(Code.uses > 0))
        .join(Offer, Offer.id == Code.offer_id)
        .where(Offer.campaign_id == campaign_id)
        .group_by(Code.offer_id)
    ).all()
    return {offer_id: (int(total), int(used)) for offer_id, total, used in rows}


def redeemed_by_interval(
    session: Session, *, business_id: uuid.UUID, edges: list[datetime]
) -> dict[int, tuple[int, int]]:
    """Per interval [edges[i], edges[i+1]): redemptions honoured here and their order total,
    both net of reversals (a reversal row carries the negated amounts)."""
    where = (
        Redemption.business_id == business_id,
        Redemption.at >= clock.instant(edges[0]),
        Redemption.at < clock.instant(edges[-1]),
    )
    base = (
        select(
            clock.bucket(Redemption.at, edges).label("b"),
            Redemption.reverses_id.label("r"),
            Redemption.order_minor.label("m"),
        )
        .where(*where)
        .subquery()
    )
    count = func.sum(case((base.c.r.is_(None), 1), else_=-1))
    rows = session.execute(select(base.c.b, count, func.sum(base.c.m)).group_by(base.c.b)).all()
    return {int(b): (int(n or 0), int(m or 0)) for b, n, m in rows}
