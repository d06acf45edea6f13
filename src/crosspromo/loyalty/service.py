"""Coalition loyalty rules: coalitions and members, cards, earn, spend, refund, expiry.

Every operation on a card first locks the card (`ledger.lock_card`), then reads its lots and
writes one balanced transaction. Points form lots with their issuer; spending takes the oldest
spendable lots first, so every spent point knows who issued it and who owes whom.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from babel.numbers import get_currency_precision
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import utcnow
from crosspromo.errors import DomainError, Forbidden, Invalid, NotFound
from crosspromo.loyalty import ledger
from crosspromo.loyalty.models import (
    POINTS,
    AccountKind,
    Card,
    Coalition,
    Debt,
    Lot,
    LotMove,
    Member,
    MemberStatus,
    RuleVersion,
    Transaction,
    TxnKind,
)
from crosspromo.offers import codes
from crosspromo.roles import Actor, Role

CARD_PATTERN = codes.CodePattern(prefix="", groups=3, group_size=4)
MAX_POINTS = 10**9
MAX_ORDER_MINOR = 10**12

# Reasons a till shows; the keys are the stable problem types.
REASONS = {
    "card-malformed": "This is not a card number.",
    "card-mistyped": "A character of the card number is mistyped.",
    "card-unknown": "No card has this number.",
    "card-other-coalition": "This card belongs to another coalition.",
    "card-not-activated": "This card is not activated yet: activate it with the customer first.",
    "card-already-active": "This card is already activated.",
    "card-exists": "A card with this phone or e-mail exists already.",
    "not-member": "This business is not a member of the card's coalition.",
    "member-left": "This business has left the coalition.",
    "over-balance": "The card has fewer points.",
    "over-share": "Points may pay only part of this receipt.",
    "points-pending": "These points are still pending; they can be spent later.",
    "points-expired": "These points have expired.",
    "refund-too-large": "The refund is larger than the purchase.",
    "reversal-of-reversal": "A reversal cannot be reversed.",
    "already-reversed": "This transaction was already reversed.",
    "not-reversible": "This transaction cannot be reversed.",
    "order-already-recorded": "Points for this order were already recorded.",
}


class Refused(DomainError):
    """A till refusal with a stable problem type."""

    def __init__(self, kind: str, detail: str = "", status: int = 409, **extensions: Any) -> None:
        super().__init__(
            detail or REASONS[kind],
            kind=kind,
            status=status,
            title={409: "Refused", 404: "Not found", 403: "Forbidden"}.get(status, "Invalid input"),
            extensions=extensions,
        )


# --- coalitions and members ------------------------------------------------------------------


@dataclass
class Rules:
    """A version of the rules: the coalition's and each member's earn rules."""

    point_value_minor: int = 100
    max_share_bp: int = 5000
    pending_days: int = 14
    expiry_months: int = 12
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # business id -> earn

    def check(self) -> None:
        bounds = {
            "point_value_minor": (1, 1_000_000),
            "max_share_bp": (0, 10_000),
            "pending_days": (0, 365),
            "expiry_months": (1, 120),
        }
        for name, (low, high) in bounds.items():
            if not low <= getattr(self, name) <= high:
                raise Invalid(f"{name} takes {low} to {high}.", field=name)
        for earn in self.members.values():
            if not 0 <= int(earn.get("earn_milli", 0)) <= 1_000_000:
                raise Invalid("earn_milli takes 0 to 1000000.", field="earn_milli")
            if not 0 <= int(earn.get("welcome_points", 0)) <= 1_000_000:
                raise Invalid("welcome_points takes 0 to 1000000.", field="welcome_points")
            for name, percent in dict(earn.get("multipliers", {})).items():
                if not 0 <= int(percent) <= 1000 or not 1 <= len(str(name)) <= 100:
                    raise Invalid("A multiplier takes 0 to 1000 %.", field="multipliers")


def create_coalition(
    session: Session,
    *,
    founder: Business,
    name: str,
    currency: str | None = None,
    point_value_minor: int = 100,
    max_share_bp: int = 5000,
    pending_days: int = 14,
    expiry_months: int = 12,
    earn_milli: int = 50,
    welcome_points: int = 0,
    multipliers: dict[str, int] | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> Coalition:
    """A coalition founded by `founder`, its first member, with version 1 of the rules."""
    now = now or utcnow()
    name = name.strip()
    if not 1 <= len(name) <= 200 or any(ord(ch) < 32 for ch in name):
        raise Invalid("The name takes 1 to 200 characters.", field="name")
    timezone = timezone or founder.timezone
    try:
        clock.zone(timezone)
    except ValueError:
        raise Invalid(
            "Not a known time zone (IANA name, e.g. Europe/Moscow).", field="timezone"
        ) from None
    coalition = Coalition(
        name=name,
        founder_business_id=founder.id,
        currency=(currency or founder.currency).upper(),
        point_value_minor=point_value_minor,
        max_share_bp=max_share_bp,
        pending_days=pending_days,
        expiry_months=expiry_months,
        rules_version=1,
        timezone=timezone,
        created_at=now,
    )
    earn = {
        "earn_milli": earn_milli,
        "welcome_points": welcome_points,
        "multipliers": dict(multipliers or {}),
    }
    rules = Rules(
        point_value_minor,
        max_share_bp,
        pending_days,
        expiry_months,
        {str(founder.id): earn},
    )
    rules.check()
    session.add(coalition)
    session.flush()
    session.add(
        Member(
            coalition_id=coalition.id,
            business_id=founder.id,
            status=MemberStatus.active,
            earn_milli=earn_milli,
            welcome_points=welcome_points,
            multipliers=earn["multipliers"],
            accepted_version=1,
            joined_at=now,
        )
    )
    session.add(
        RuleVersion(
            coalition_id=coalition.id,
            version=1,
            rules=rules.__dict__,
            proposed_by=founder.id,
            created_at=now,
            effective_at=now,
        )
    )
    session.flush()
    return coalition


def get_coalition(session: Session, coalition_id: uuid.UUID) -> Coalition:
    coalition = session.get(Coalition, coalition_id)
    if coalition is None:
        raise NotFound("No such coalition.")
    return coalition


def coalition_for(session: Session, business: Business, coalition_id: uuid.UUID) -> Coalition:
    """The coalition if `business` is (or was, or is invited as) a member; NotFound otherwise."""
    coalition = get_coalition(session, coalition_id)
    if find_member(session, coalition.id, business.id) is None:
        raise NotFound("No such coalition.")
    return coalition


@dataclass(frozen=True)
class Access:
    """A coalition as a caller reaches it: the caller's businesses in it and its role at each."""

    coalition: Coalition
    roles: dict[uuid.UUID, tuple[Business, Role]]
    need: Role

    def member(self, business_id: uuid.UUID) -> Business:
        """The caller's business `business_id` in the coalition: 404 if it is none, 403 if the
        caller's role there is below the route's."""
        found = self.roles.get(business_id)
        if found is None:
            raise NotFound("No such coalition.")
        business, role = found
        if not role.at_least(self.need):
            raise Forbidden(f"This needs the {self.need.value} role.")
        return business


def access(session: Session, actor: Actor, coalition_id: uuid.UUID, need: Role) -> Access:
    """The coalition if a business the caller works for is in it (invited, active or left).

    404 for everyone else, so an outsider cannot tell a coalition exists; 403 when the caller
    works for a member but with a role below `need` at every member business.
    """
    coalition = get_coalition(session, coalition_id)
    ids = [m.business_id for m in members(session, coalition.id)]
    roles = {}
    for business in businesses.by_ids(session, set(ids)):
        role = businesses.role_in(actor, business)
        if role is not None:
            roles[business.id] = (business, role)
    if not roles:
        raise NotFound("No such coalition.")
    if not any(role.at_least(need) for _, role in roles.values()):
        raise Forbidden(f"This needs the {need.value} role.")
    return Access(coalition, roles, need)


def coalitions_of(session: Session, business_id: uuid.UUID) -> list[Coalition]:
    return list(
        session.scalars(
            select(Coalition)
            .join(Member, Member.coalition_id == Coalition.id)
            .where(Member.business_id == business_id)
            .order_by(Coalition.created_at)
        )
    )


def all_coalitions(session: Session, *, limit: int = 1000) -> list[Coalition]:
    return list(session.scalars(select(Coalition).order_by(Coalition.created_at).limit(limit)))


def find_member(session: Session, coalition_id: uuid.UUID, business_id: uuid.UUID) -> Member | None:
    return session.scalar(
        select(Member).where(Member.coalition_id == coalition_id, Member.business_id == business_id)
    )


def members(session: Session, coalition_id: uuid.UUID) -> list[Member]:
    return list(
        session.scalars(
            select(Member).where(Member.coalition_id == coalition_id).order_by(Member.joined_at)
        )
    )


def invite(
    session: Session, *, coalition: Coalition, by: Business, business_id: uuid.UUID
) -> Member:
    """An active member invites a business; its owner accepts with `join`."""
    inviter = find_member(session, coalition.id, by.id)
    if inviter is None or inviter.status != MemberStatus.active:
        raise Refused("not-member", status=403)
    if session.get(Business, business_id) is None:
        raise NotFound("No such business.", field="business_id")
    member = find_member(session, coalition.id, business_id)
    if member is not None and member.status == MemberStatus.active:
        return member
    if member is None:
        member = Member(coalition_id=coalition.id, business_id=business_id)
        session.add(member)
    member.status = MemberStatus.invited
    member.left_at = None
    session.flush()
    return member


def join(
    session: Session,
    *,
    coalition: Coalition,
    business: Business,
    earn_milli: int = 50,
    welcome_points: int = 0,
    multipliers: dict[str, int] | None = None,
    now: datetime | None = None,
) -> Member:
    """Accept an invitation: the business agrees to the current rules and becomes active."""
    member = find_member(session, coalition.id, business.id)
    if member is None:
        raise NotFound("This business has no invitation to the coalition.")
    if member.status == MemberStatus.active:
        return member
    if member.status != MemberStatus.invited:
        raise Refused("member-left", "A member that left needs a new invitation.")
    Rules(members={"x": {"earn_milli": earn_milli, "welcome_points": welcome_points}}).check()
    member.status = MemberStatus.active
    member.earn_milli = earn_milli
    member.welcome_points = welcome_points
    member.multipliers = dict(multipliers or {})
    member.accepted_version = coalition.rules_version
    member.joined_at = now or utcnow()
    session.flush()
    return member


def leave(
    session: Session, *, coalition: Coalition, business: Business, now: datetime | None = None
) -> Member:
    """The member stops earning and accepting points; the points it issued stay spendable."""
    member = find_member(session, coalition.id, business.id)
    if member is None or member.status != MemberStatus.active:
        raise Refused("not-member", status=403)
    member.status = MemberStatus.left
    member.left_at = now or utcnow()
    session.flush()
    return member


def current_rules(session: Session, coalition: Coalition) -> Rules:
    active = [m for m in members(session, coalition.id) if m.status == MemberStatus.active]
    return Rules(
        coalition.point_value_minor,
        coalition.max_share_bp,
        coalition.pending_days,
        coalition.expiry_months,
        {
            str(m.business_id): {
                "earn_milli": m.earn_milli,
                "welcome_points": m.welcome_points,
                "multipliers": dict(m.multipliers),
            }
            for m in active
        },
    )


def propose_rules(
    session: Session, *, coalition: Coalition, by: Business, rules: Rules
) -> RuleVersion:
    """A new version of the rules; it takes effect once every active member accepted it."""
    member = find_member(session, coalition.id, by.id)
    if member is None or member.status != MemberStatus.active:
        raise Refused("not-member", status=403)
    rules.check()
    latest = session.scalar(
        select(func.max(RuleVersion.version)).where(RuleVersion.coalition_id == coalition.id)
    )
    version = RuleVersion(
        coalition_id=coalition.id,
        version=int(latest or 0) + 1,
        rules=rules.__dict__,
        proposed_by=by.id,
    )
    session.add(version)
    session.flush()
    accept_rules(session, coalition=coalition, business=by, version=version.version)
    return version


def accept_rules(
    session: Session,
    *,
    coalition: Coalition,
    business: Business,
    version: int,
    now: datetime | None = None,
) -> bool:
    """Record the member's acceptance; apply the version when all accepted. True if applied."""
    member = find_member(session, coalition.id, business.id)
    if member is None or member.status != MemberStatus.active:
        raise Refused("not-member", status=403)
    proposal = session.scalar(
        select(RuleVersion).where(
            RuleVersion.coalition_id == coalition.id, RuleVersion.version == version
        )
    )
    if proposal is None:
        raise NotFound("No such version of the rules.")
    member.accepted_version = max(member.accepted_version, version)
    session.flush()
    active = [m for m in members(session, coalition.id) if m.status == MemberStatus.active]
    if proposal.effective_at is not None or any(m.accepted_version < version for m in active):
        return False
    rules = Rules(**proposal.rules)
    coalition.point_value_minor = rules.point_value_minor
    coalition.max_share_bp = rules.max_share_bp
    coalition.pending_days = rules.pending_days
    coalition.expiry_months = rules.expiry_months
    coalition.rules_version = version
    for m in active:
        earn = rules.members.get(str(m.business_id))
        if earn is not None:
            m.earn_milli = int(earn.get("earn_milli", m.earn_milli))
            m.welcome_points = int(earn.get("welcome_points", m.welcome_points))
            m.multipliers = {str(k): int(v) for k, v in dict(earn.get("multipliers", {})).items()}
    proposal.effective_at = now or utcnow()
    session.flush()
    return True


def active_member(session: Session, coalition_id: uuid.UUID, business_id: uuid.UUID) -> Member:
    member = find_member(session, coalition_id, business_id)
    _check_active(member.status if member is not None else None)
    assert member is not None
    return member


# --- cards -------------------------------------------------------------------------------------


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_phone(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        raise Invalid("This is not a phone number.", field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid("This is not a valid phone number.", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(text: str) -> str:
    try:
        return str(validate_email(text, check_deliverability=False).normalized).lower()
    except EmailNotValidError as exc:
        raise Invalid(str(exc), field="email") from None


def enrol(
    session: Session,
    *,
    coalition: Coalition,
    business: Business | None,
    consent: bool,
    phone: str = "",
    email: str = "",
    marketing_consent: bool = False,
    locale: str = "en",
    now: datetime | None = None,
) -> tuple[Card, str]:
    """A new card for a person who consented; the card and the secret token of its page."""
    phone_e164, email_norm = _holder(
        session, coalition=coalition, business=business, consent=consent, phone=phone, email=email
    )
    token = secrets.token_urlsafe(24)
    card = Card(
        coalition_id=coalition.id,
        number=_new_numbers(session, 1)[0],
        phone=phone_e164,
        email=email_norm,
        locale=locale if locale in ("en", "ru") else "en",
        activated_at=now or utcnow(),
        consent_at=now or utcnow(),
        marketing_consent=marketing_consent,
        link_hash=link_hash(token),
        enrolled_by=business.id if business is not None else None,
        created_at=now or utcnow(),
    )
    session.add(card)
    session.flush()
    return card, token


def _holder(
    session: Session,
    *,
    coalition: Coalition,
    business: Business | None,
    consent: bool,
    phone: str,
    email: str,
) -> tuple[str | None, str | None]:
    """The holder's phone (E.164) and e-mail, refused without consent or when taken."""
    if not consent:
        raise Invalid("The card needs the customer's consent to the programme.", field="consent")
    if not phone and not email:
        raise Invalid("Give a phone number or an e-mail address.", field="phone")
    region = business.country if business is not None else "RU"
    phone_e164 = normalize_phone(phone, region) if phone else None
    email_norm = normalize_email(email) if email else None
    for column, value, name in (
        (Card.phone, phone_e164, "phone"),
        (Card.email, email_norm, "email"),
    ):
        if value is not None and session.scalar(
            select(Card.id).where(Card.coalition_id == coalition.id, column == value)
        ):
            raise Refused("card-exists", f"A card with this {name} exists already.")
    return phone_e164, email_norm


def _new_numbers(session: Session, count: int) -> list[str]:
    def taken(code: str) -> bool:
        return (
            session.scalar(select(Card.id).where(Card.number == codes.normalize(code))) is not None
        )

    return [codes.normalize(code) for code in codes.generate(CARD_PATTERN, count, taken=taken)]


MAX_BLANK_CARDS = 1000


def blank_cards(
    session: Session,
    *,
    coalition: Coalition,
    business: Business,
    count: int,
    locale: str = "en",
    now: datetime | None = None,
) -> list[Card]:
    """`count` numbered cards without a holder, to print and hand out at the member's tills."""
    active_member(session, coalition.id, business.id)
    if not 1 <= count <= MAX_BLANK_CARDS:
        raise Invalid(f"count takes 1 to {MAX_BLANK_CARDS}.", field="count")
    now = now or utcnow()
    cards = [
        Card(
            coalition_id=coalition.id,
            number=number,
            locale=locale if locale in ("en", "ru") else "en",
            activated_at=None,
            consent_at=now,
            # The page's link is made at activation; until then no token exists.
            link_hash=link_hash(secrets.token_urlsafe(24)),
            enrolled_by=business.id,
            created_at=now,
        )
        for number in _new_numbers(session, count)
    ]
    session.add_all(cards)
    session.flush()
    return cards


def activate(
    session: Session,
    *,
    card: Card,
    business: Business,
    consent: bool,
    phone: str = "",
    email: str = "",
    marketing_consent: bool = False,
    locale: str = "en",
    now: datetime | None = None,
) -> tuple[Card, str]:
    """A printed blank card handed out at `business`'s till becomes the consenting holder's."""
    active_member(session, card.coalition_id, business.id)
    if card.activated_at is not None:
        raise Refused("card-already-active")
    coalition = get_coalition(session, card.coalition_id)
    phone_e164, email_norm = _holder(
        session, coalition=coalition, business=business, consent=consent, phone=phone, email=email
    )
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    # Conditional on still being blank: two tills activating one card, one wins.
    done = session.execute(
        update(Card)
        .where(Card.id == card.id, Card.activated_at.is_(None))
        .values(
            activated_at=now,
            consent_at=now,
            phone=phone_e164,
            email=email_norm,
            marketing_consent=marketing_consent,
            locale=locale if locale in ("en", "ru") else card.locale,
            link_hash=link_hash(token),
            enrolled_by=business.id,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("card-already-active")
    session.refresh(card)
    return card, token


def display_number(number: str) -> str:
    return codes.format(number, CARD_PATTERN)


def find_card(session: Session, text: str, *, region: str = "RU") -> Card:
    """The card by its number (the check character tells a typo) or by the holder's phone."""
    if not text or len(text) > 60 or any(ord(ch) < 32 for ch in text):
        raise Refused("card-malformed", status=422)
    digits = sum(ch.isdigit() for ch in text)
    if text.strip().startswith("+") or digits >= 10 and not any(ch.isalpha() for ch in text):
        try:
            phone = normalize_phone(text, region)
        except Invalid:
            raise Refused("card-malformed", status=422) from None
        found = list(session.scalars(select(Card).where(Card.phone == phone).limit(2)))
        if len(found) != 1:
            raise Refused("card-unknown", status=404)
        return found[0]
    verdict = codes.explain(text, CARD_PATTERN)
    if verdict.status == "malformed":
        raise Refused("card-malformed", verdict.reason, status=422)
    if verdict.status == "mistyped":
        raise Refused("card-mistyped", status=422)
    card = session.scalar(select(Card).where(Card.number == verdict.code))
    if card is None:
        raise Refused("card-unknown", status=404)
    return card


def card_by_link(session: Session, token: str) -> Card:
    card = session.scalar(select(Card).where(Card.link_hash == link_hash(token)))
    if card is None:
        raise NotFound("No such card.")
    return card


# --- the ledger operations ---------------------------------------------------------------------


def add_months(when: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day (31 Jan + 1 = 28/29 Feb)."""
    years, month0 = divmod(when.month - 1 + months, 12)
    year, month = when.year + years, month0 + 1
    return when.replace(year=year, month=month, day=min(when.day, monthrange(year, month)[1]))


def _minor_per_major(currency: str) -> int:
    return int(10 ** get_currency_precision(currency))


def _check_order(order_minor: int, order_ref: str) -> None:
    if not 0 <= order_minor <= MAX_ORDER_MINOR:
        raise Invalid(f"order_minor takes 0 to {MAX_ORDER_MINOR}.", field="order_minor")
    if not 1 <= len(order_ref) <= 100 or any(ord(ch) < 32 for ch in order_ref):
        raise Invalid("order_ref takes 1 to 100 printable characters.", field="order_ref")


_TXNS = Transaction.__table__
_REVERSALS = _TXNS.alias("reversals")
_ORDER_KINDS = [TxnKind.earn, TxnKind.spend]
_LIVE_LOTS = (
    select(Lot)
    .where(Lot.card_id == bindparam("card_id"), Lot.remaining > 0)
    .order_by(Lot.created_at, Lot.id)
    # Lots already in the session may be stale: spending moves them with Core UPDATEs.
    .execution_options(populate_existing=True)
)
_OPEN_DEBTS = (
    select(Debt)
    .where(Debt.card_id == bindparam("card_id"), Debt.remaining > 0)
    .order_by(Debt.created_at, Debt.id)
)
_RULES = (
    select(
        Coalition.id,
        Coalition.currency,
        Coalition.point_value_minor,
        Coalition.max_share_bp,
        Coalition.pending_days,
        Coalition.expiry_months,
        Coalition.rules_version,
        Member.status,
        Member.earn_milli,
        Member.welcome_points,
        Member.multipliers,
    )
    .outerjoin(
        Member,
        and_(Member.coalition_id == Coalition.id, Member.business_id == bindparam("business_id")),
    )
    .where(Coalition.id == bindparam("coalition_id"))
)
_SPENDABLE = (
    select(Lot.id, Lot.issuer_business_id, Lot.remaining, Lot.available_at, Lot.expires_at)
    .where(Lot.card_id == bindparam("card_id"), Lot.remaining > 0)
    .order_by(Lot.created_at, Lot.id)
)


@dataclass(frozen=True)
class Terms:
    """The coalition's rules as one operation uses them (read once, without the ORM)."""

    id: uuid.UUID
    currency: str
    point_value_minor: int
    max_share_bp: int
    pending_days: int
    expiry_months: int
    rules_version: int


def terms_of(coalition: Coalition) -> Terms:
    return Terms(
        coalition.id,
        coalition.currency,
        coalition.point_value_minor,
        coalition.max_share_bp,
        coalition.pending_days,
        coalition.expiry_months,
        coalition.rules_version,
    )


def _earn_facts() -> Any:
    """What an earn needs to know after the card's lock, in one round trip."""
    order = (
        _TXNS.c.business_id == bindparam("business_id"),
        _TXNS.c.order_ref == bindparam("order_ref"),
    )
    spend = select(_TXNS.c.id).where(*order, _TXNS.c.kind == TxnKind.spend).scalar_subquery()
    return select(
        exists().where(*order, _TXNS.c.kind == TxnKind.earn).label("earned"),
        select(_TXNS.c.value_minor)
        .where(*order, _TXNS.c.kind == TxnKind.spend)
        .scalar_subquery()
        .label("paid"),
        select(func.coalesce(func.sum(_REVERSALS.c.value_minor), 0))
        .where(_REVERSALS.c.reverses_id == spend)
        .scalar_subquery()
        .label("paid_back"),
        exists()
        .where(
            _TXNS.c.card_id == bindparam("card_id"),
            _TXNS.c.business_id == bindparam("business_id"),
            _TXNS.c.kind == TxnKind.earn,
        )
        .label("earned_here"),
        exists().where(Debt.card_id == bindparam("card_id"), Debt.remaining > 0).label("owes"),
    )


_EARN_FACTS = _earn_facts()


def _live_lots(session: Session, card_id: uuid.UUID) -> list[Lot]:
    """The card's lots with points left, oldest first (the FIFO order of spending)."""
    return list(session.scalars(_LIVE_LOTS, {"card_id": card_id}))


def _open_debts(session: Session, card_id: uuid.UUID) -> list[Debt]:
    return list(session.scalars(_OPEN_DEBTS, {"card_id": card_id}))


def _rules_at(session: Session, card: Card, business: Business) -> tuple[Terms, Any]:
    """The card's coalition's terms and the business's active membership, in one query."""
    if card.activated_at is None:
        raise Refused("card-not-activated")
    row = (
        session.connection()
        .execute(_RULES, {"coalition_id": card.coalition_id, "business_id": business.id})
        .first()
    )
    if row is None:
        raise NotFound("No such coalition.")
    _check_active(row.status)
    return Terms(*row[:7]), row


def _check_active(status: MemberStatus | None) -> None:
    if status is None:
        raise Refused("card-other-coalition")
    if status == MemberStatus.left:
        raise Refused("member-left")
    if status != MemberStatus.active:
        raise Refused("not-member", status=403)


def _transaction(
    session: Session,
    coalition: Terms,
    card: Card,
    kind: TxnKind,
    *,
    points: int,
    now: datetime,
    caller: str,
    business_id: uuid.UUID | None = None,
    order_ref: str | None = None,
    order_minor: int = 0,
    value_minor: int | None = None,
    reverses: Transaction | None = None,
    reversal_no: int | None = None,
    unique: bool = False,
) -> Transaction:
    """Write a transaction row; `unique` refuses a second earn or spend of the same receipt."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "coalition_id": coalition.id,
        "kind": kind,
        "card_id": card.id,
        "business_id": business_id,
        "order_ref": order_ref,
        "order_minor": order_minor,
        "points": points,
        "value_minor": points * coalition.point_value_minor if value_minor is None else value_minor,
        "reverses_id": reverses.id if reverses is not None else None,
        "reversal_no": reversal_no,
        "rules_version": coalition.rules_version,
        "caller": caller[:80],
        "at": now,
    }
    if unique:
        if not ledger.write_once(session, values):
            raise Refused("order-already-recorded")
        return ledger.attach(session, Transaction, values)
    return ledger.write(session, Transaction, **values)


def earn(
    session: Session,
    *,
    business: Business,
    card: Card,
    order_minor: int,
    order_ref: str,
    category: str = "",
    caller: str = "",
    now: datetime | None = None,
) -> Transaction:
    """Points for a receipt (none on the part paid with points), as a new pending lot."""
    now = now or utcnow()
    _check_order(order_minor, order_ref)
    coalition, member = _rules_at(session, card, business)
    ledger.lock_card(session, card.id)
    facts = (
        session.connection()
        .execute(
            _EARN_FACTS, {"business_id": business.id, "order_ref": order_ref, "card_id": card.id}
        )
        .one()
    )
    if facts.earned:
        raise Refused("order-already-recorded")
    paid_with_points = max(int(facts.paid or 0) - int(facts.paid_back or 0), 0)
    eligible = max(order_minor - paid_with_points, 0)
    multiplier = int(member.multipliers.get(category, 100)) if category else 100
    points = (
        eligible
        * member.earn_milli
        * multiplier
        // (1000 * 100 * _minor_per_major(coalition.currency))
    )
    if member.welcome_points and not facts.earned_here:
        points += member.welcome_points
    points = min(points, MAX_POINTS)
    txn = _transaction(
        session,
        coalition,
        card,
        TxnKind.earn,
        points=points,
        now=now,
        caller=caller,
        business_id=business.id,
        order_ref=order_ref,
        order_minor=order_minor,
        unique=True,
    )
    if points == 0:
        return txn
    # A new lot starts full; its first move records the points it was made with.
    lot = ledger.write(
        session,
        Lot,
        id=uuid.uuid4(),
        coalition_id=coalition.id,
        card_id=card.id,
        issuer_business_id=business.id,
        transaction_id=txn.id,
        points=points,
        remaining=points,
        available_at=now + timedelta(days=coalition.pending_days),
        expires_at=add_months(now, coalition.expiry_months),
        created_at=now,
    )
    ledger.add_moves(
        session,
        [
            {
                "id": uuid.uuid4(),
                "lot_id": lot.id,
                "transaction_id": txn.id,
                "points": points,
                "accepted_by": None,
            }
        ],
    )
    issued = ledger.member_account(session, coalition.id, AccountKind.issued, business.id)
    ledger.post(
        session,
        txn.id,
        [(ledger.customer(session, card), POINTS, points), (issued, POINTS, -points)],
        now,
    )
    if facts.owes:
        _recover(session, coalition, card, lot, caller=caller, now=now)
    return txn


def _settle_spent(
    session: Session,
    coalition: Terms,
    card: Card,
    taken: dict[uuid.UUID, int],
    *,
    acceptor: uuid.UUID,
    point_value_minor: int,
    sign: int = 1,
) -> list[ledger.Posting]:
    """Postings of points spent at `acceptor` (sign -1: given back): issuers owe the acceptor."""
    cid = coalition.id
    postings: list[ledger.Posting] = [
        (ledger.customer(session, card), POINTS, -sign * sum(taken.values()))
    ]
    for issuer, points in taken.items():
        issued = ledger.member_account(session, cid, AccountKind.issued, issuer)
        postings.append((issued, POINTS, sign * points))
        if issuer != acceptor:
            pair = ledger.settlement(
                session,
                cid,
                coalition.currency,
                debtor=issuer,
                creditor=acceptor,
                value_minor=points * point_value_minor,
            )
            postings += [(account, unit, sign * amount) for account, unit, amount in pair]
    return postings


def _recover(
    session: Session, coalition: Terms, card: Card, lot: Lot, *, caller: str, now: datetime
) -> None:
    """Settle the card's debts from a new lot: the creditor accepts those points as spent."""
    cid = coalition.id
    debt_account = ledger.account(
        session, coalition_id=cid, kind=AccountKind.debt, unit=POINTS, card_id=card.id
    )
    left = lot.remaining
    for debt in _open_debts(session, card.id):
        take = min(debt.remaining, left)
        if take == 0:
            break
        left -= take
        creditor = debt.creditor_business_id
        txn = _transaction(
            session,
            coalition,
            card,
            TxnKind.recovery,
            points=take,
            now=now,
            caller=caller,
            business_id=creditor,
        )
        ledger.add_moves(
            session, [ledger.move_lot(session, lot.id, txn.id, -take, accepted_by=creditor)]
        )
        debt.remaining -= take
        postings = _settle_spent(
            session,
            coalition,
            card,
            {lot.issuer_business_id: take},
            acceptor=creditor,
            point_value_minor=coalition.point_value_minor,
        )
        claim = ledger.member_account(session, cid, AccountKind.claim, creditor)
        postings += [(debt_account, POINTS, take), (claim, POINTS, -take)]
        ledger.post(session, txn.id, postings, now)
    session.flush()


@dataclass
class Balance:
    available: int
    pending: int
    expired_unwritten: int
    debt: int
    lots: list[Lot]


def balance(session: Session, card: Card, *, now: datetime | None = None) -> Balance:
    """Spendable points, pending points, the lots with their expiry, and any debt."""
    now = now or utcnow()
    lots = _live_lots(session, card.id)
    available = sum(lot.remaining for lot in lots if lot.available_at <= now < lot.expires_at)
    pending = sum(lot.remaining for lot in lots if lot.available_at > now and lot.expires_at > now)
    expired = sum(lot.remaining for lot in lots if lot.expires_at <= now)
    debt = sum(d.remaining for d in _open_debts(session, card.id))
    return Balance(available, pending, expired, debt, lots)


def max_points_for(coalition: Coalition | Terms, order_minor: int) -> int:
    """The most points that may pay a receipt of `order_minor`."""
    return order_minor * coalition.max_share_bp // 10_000 // coalition.point_value_minor


def spend(
    session: Session,
    *,
    business: Business,
    card: Card,
    order_minor: int,
    order_ref: str,
    points: int | None = None,
    caller: str = "",
    now: datetime | None = None,
) -> Transaction:
    """Pay part of a receipt with points, oldest spendable lots first; None points = the most."""
    now = now or utcnow()
    _check_order(order_minor, order_ref)
    if points is not None and not 1 <= points <= MAX_POINTS:
        raise Invalid(f"points takes 1 to {MAX_POINTS}.", field="points")
    coalition, _member = _rules_at(session, card, business)
    ledger.lock_card(session, card.id)
    lots = session.connection().execute(_SPENDABLE, {"card_id": card.id}).all()
    spendable = [lot for lot in lots if lot.available_at <= now < lot.expires_at]
    available = sum(lot.remaining for lot in spendable)
    share_limit = max_points_for(coalition, order_minor)
    wanted = points if points is not None else min(available, share_limit)
    if wanted > share_limit:
        raise Refused("over-share", max_points=share_limit)
    if wanted == 0 or wanted > available:
        short = max(wanted, 1) - available
        pending = sum(
            lot.remaining for lot in lots if lot.available_at > now and lot.expires_at > now
        )
        expired = sum(lot.remaining for lot in lots if lot.expires_at <= now)
        kind = "over-balance"
        if pending >= short:
            kind = "points-pending"
        elif expired and expired + pending >= short:
            kind = "points-expired"
        raise Refused(kind, available=available)
    # The receipt's unique key refuses a second spend (no look-up before the insert).
    txn = _transaction(
        session,
        coalition,
        card,
        TxnKind.spend,
        points=wanted,
        now=now,
        caller=caller,
        business_id=business.id,
        order_ref=order_ref,
        order_minor=order_minor,
        unique=True,
    )
    taken: dict[uuid.UUID, int] = {}
    moves = []
    left = wanted
    for lot in spendable:
        take = min(lot.remaining, left)
        moves.append(ledger.move_lot(session, lot.id, txn.id, -take, accepted_by=business.id))
        taken[lot.issuer_business_id] = taken.get(lot.issuer_business_id, 0) + take
        left -= take
        if left == 0:
            break
    ledger.add_moves(session, moves)
    postings = _settle_spent(
        session,
        coalition,
        card,
        taken,
        acceptor=business.id,
        point_value_minor=coalition.point_value_minor,
    )
    ledger.post(session, txn.id, postings, now)
    return txn


def get_transaction(session: Session, transaction_id: uuid.UUID) -> Transaction:
    txn = session.get(Transaction, transaction_id)
    if txn is None:
        raise NotFound("No such transaction.")
    return txn


def _part(total: int, of_minor: int, part_minor: int) -> int:
    """`total` points in proportion to `part_minor` of a receipt of `of_minor`, rounded down."""
    if part_minor >= of_minor:
        return total
    return total * part_minor // max(of_minor, 1)


def reverse(
    session: Session,
    *,
    business: Business,
    transaction_id: uuid.UUID,
    order_minor: int | None = None,
    caller: str = "",
    now: datetime | None = None,
) -> Transaction:
    """Refund (part of) the receipt of an earn or a spend; a new transaction.

    An earn's points come off its lot (a debt where they were spent already); a spend's
    points go back into the lots they came from, with their original expiry, in proportion
    to the refunded part of the receipt.
    """
    now = now or utcnow()
    original = get_transaction(session, transaction_id)
    if original.business_id != business.id:
        raise NotFound("No such transaction.")
    if original.kind in (TxnKind.expiry, TxnKind.recovery):
        raise Refused("not-reversible")
    if original.kind in (TxnKind.refund, TxnKind.spend_reversal):
        raise Refused("reversal-of-reversal")
    if order_minor is not None and not 0 <= order_minor <= MAX_ORDER_MINOR:
        raise Invalid(f"order_minor takes 0 to {MAX_ORDER_MINOR}.", field="order_minor")
    coalition = terms_of(get_coalition(session, original.coalition_id))
    card = session.get(Card, original.card_id)
    assert card is not None
    ledger.lock_card(session, card.id)
    earlier = list(
        session.scalars(
            select(Transaction)
            .where(Transaction.reverses_id == original.id)
            .order_by(Transaction.reversal_no)
        )
    )
    refunded = sum(t.order_minor for t in earlier)
    left = original.order_minor - refunded
    if earlier and left <= 0:
        kind = "already-reversed" if original.kind == TxnKind.spend else "refund-too-large"
        raise Refused(kind, refundable_minor=0)
    amount = left if order_minor is None else order_minor
    if amount > left:
        raise Refused("refund-too-large", refundable_minor=left)
    target = _part(original.points, original.order_minor, refunded + amount)
    take = max(target - sum(t.points for t in earlier), 0)
    kind = TxnKind.spend_reversal if original.kind == TxnKind.spend else TxnKind.refund
    # A reversal moves points at the value they had when the original moved them.
    point_value = original.value_minor // original.points if original.points else 0
    txn = _transaction(
        session,
        coalition,
        card,
        kind,
        points=take,
        now=now,
        caller=caller,
        business_id=business.id,
        order_minor=amount,
        value_minor=take * point_value,
        reverses=original,
        reversal_no=len(earlier) + 1,
    )
    if take == 0:
        return txn
    if original.kind == TxnKind.spend:
        _give_back(session, coalition, card, original, txn, take, point_value, now=now)
    else:
        _take_back(session, coalition, card, original, txn, take, now=now)
    return txn


def _take_back(
    session: Session,
    coalition: Terms,
    card: Card,
    original: Transaction,
    txn: Transaction,
    take: int,
    *,
    now: datetime,
) -> None:
    """Refunded earn: points off its lot; what was spent already becomes the card's debt."""
    lot = session.scalar(select(Lot).where(Lot.transaction_id == original.id))
    assert lot is not None and original.business_id is not None
    from_lot = min(lot.remaining, take)
    owed = take - from_lot
    ledger.add_moves(session, [ledger.move_lot(session, lot.id, txn.id, -from_lot)])
    cid = coalition.id
    issued = ledger.member_account(session, cid, AccountKind.issued, original.business_id)
    postings: list[ledger.Posting] = [
        (ledger.customer(session, card), POINTS, -from_lot),
        (issued, POINTS, from_lot),
    ]
    if owed:
        session.add(
            Debt(
                card_id=card.id,
                creditor_business_id=original.business_id,
                transaction_id=txn.id,
                points=owed,
                remaining=owed,
                created_at=now,
            )
        )
        debt = ledger.account(
            session, coalition_id=cid, kind=AccountKind.debt, unit=POINTS, card_id=card.id
        )
        claim = ledger.member_account(session, cid, AccountKind.claim, original.business_id)
        postings += [(debt, POINTS, -owed), (claim, POINTS, owed)]
    ledger.post(session, txn.id, postings, now)
    session.flush()


def _give_back(
    session: Session,
    coalition: Terms,
    card: Card,
    original: Transaction,
    txn: Transaction,
    points: int,
    point_value: int,
    *,
    now: datetime,
) -> None:
    """Refunded spend: `points` back into the lots the spend took them from, newest first."""
    taken_from = session.execute(
        select(Lot, func.sum(LotMove.points))
        .join(LotMove, LotMove.lot_id == Lot.id)
        .join(Transaction, Transaction.id == LotMove.transaction_id)
        .where(
            or_(Transaction.id == original.id, Transaction.reverses_id == original.id),
            LotMove.lot_id.in_(select(LotMove.lot_id).where(LotMove.transaction_id == original.id)),
        )
        .group_by(Lot.id)
        .order_by(Lot.created_at.desc(), Lot.id.desc())
    ).all()
    assert original.business_id is not None
    given: dict[uuid.UUID, int] = {}
    moves = []
    left = points
    for lot, net in taken_from:
        back = min(-int(net), left)  # still out of this lot after earlier partial refunds
        if back <= 0:
            continue
        moves.append(ledger.move_lot(session, lot.id, txn.id, back))
        given[lot.issuer_business_id] = given.get(lot.issuer_business_id, 0) + back
        left -= back
        if left == 0:
            break
    assert left == 0, "a spend's reversals returned more points than it took"
    ledger.add_moves(session, moves)
    postings = _settle_spent(
        session,
        coalition,
        card,
        given,
        acceptor=original.business_id,
        point_value_minor=point_value,
        sign=-1,
    )
    ledger.post(session, txn.id, postings, now)


def expire(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Write expiry transactions for lots past their expiry; the points expired. Idempotent."""
    now = now or utcnow()
    card_ids = list(
        session.scalars(
            select(Lot.card_id)
            .where(Lot.expires_at <= now, Lot.remaining > 0)
            .group_by(Lot.card_id)
            .limit(limit)
        )
    )
    total = 0
    for card_id in card_ids:
        card = session.get(Card, card_id)
        assert card is not None
        ledger.lock_card(session, card.id)
        lots = [lot for lot in _live_lots(session, card.id) if lot.expires_at <= now]
        if not lots:
            continue
        coalition = terms_of(get_coalition(session, card.coalition_id))
        points = sum(lot.remaining for lot in lots)
        txn = _transaction(
            session, coalition, card, TxnKind.expiry, points=points, now=now, caller="expiry"
        )
        postings: list[ledger.Posting] = [(ledger.customer(session, card), POINTS, -points)]
        moves = []
        for lot in lots:
            amount = lot.remaining
            moves.append(ledger.move_lot(session, lot.id, txn.id, -amount))
            issued = ledger.member_account(
                session, coalition.id, AccountKind.issued, lot.issuer_business_id
            )
            postings.append((issued, POINTS, amount))
        ledger.add_moves(session, moves)
        ledger.post(session, txn.id, postings, now)
        total += points
    return total


def history(session: Session, card: Card, *, limit: int = 200) -> list[Transaction]:
    """The card's transactions, newest first: the audit trail for support."""
    return list(
        session.scalars(
            select(Transaction)
            .where(Transaction.card_id == card.id)
            .order_by(Transaction.at.desc(), Transaction.id)
            .limit(limit)
        )
    )


def lot_moves(session: Session, card: Card) -> list[tuple[LotMove, Lot]]:
    """Every change of every lot of the card, oldest first: where each point went."""
    return [
        (move, lot)
        for move, lot in session.execute(
            select(LotMove, Lot)
            .join(Lot, Lot.id == LotMove.lot_id)
            .where(Lot.card_id == card.id)
            .order_by(Lot.created_at, Lot.id)
        ).all()
    ]


def set_reserve(
    session: Session, *, coalition: Coalition, business: Business, reserve_minor: int
) -> Member:
    """The member's prefunded reserve against its liability."""
    member = find_member(session, coalition.id, business.id)
    if member is None or member.status != MemberStatus.active:
        raise Refused("not-member", status=403)
    if not 0 <= reserve_minor <= MAX_ORDER_MINOR:
        raise Invalid("reserve_minor takes 0 to 10^12.", field="reserve_minor")
    member.reserve_minor = reserve_minor
    session.flush()
    return member


def expiring_lots(
    session: Session, *, issuer_business_id: uuid.UUID, after: datetime, until: datetime
) -> list[tuple[uuid.UUID, int, datetime, str | None, str | None]]:
    """(lot, points left, expiry, card phone, card e-mail) of points this business issued that
    expire in (after, until] and are not spent (for reminders before expiry)."""
    rows = session.execute(
        select(Lot.id, Lot.remaining, Lot.expires_at, Card.phone, Card.email)
        .join(Card, Card.id == Lot.card_id)
        .where(
            Lot.issuer_business_id == issuer_business_id,
            Lot.remaining > 0,
            Lot.expires_at > after,
            Lot.expires_at <= until,
        )
        .order_by(Lot.expires_at, Lot.id)
    ).all()
    return [(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows]
