"""Attribution: which partner and which channel brought a campaign's conversions.

Customer paths come from SQL over what the platform records for a campaign's offers:

* `issued`     a personal code reserved for a customer (an e-mailed code's label), or the
               customer drawn into the treatment arm of the campaign's control group,
* `email`      the e-mail that carried it (the outbox row; skipped and dead ones never left),
* `message`    a recipient's click on a link in a business's message (newsletter, SMS,
               Telegram) that carried one of the campaign's codes (`messaging.tracking`),
* `click`      a visit of the code's landing page (`/r/{code}`),
* `redemption` the code used at the honouring partner's till (reversed ones do not count),
* `visit`      a purchase at a campaign member from imported sales that is not a conversion
               (the bread bought at the bakery where the coupon was in the bag).

A person is the issuing business's customer the code was sent to; purchases at other members
are matched to them by the keyed e-mail or phone hash. Codes that are not personal (shared
codes, referral links) give paths of their own: a link's anonymous visitor, a redemption's
customer hash. The conversion is the person's first purchase at a business honouring one of
the campaign's offers, inside the campaign's dates, after a touch that points at that business;
a redemption is such a purchase even where the partner imports no sales.

Credit goes to (partner, channel) pairs; the partner of a touch is the business that made it:
the issuer for codes, e-mails, clicks and redemptions, the sender for a message, the visited
business for a visit.

The models: first, last, linear, time-decay (a touch's weight halves every `half_life`),
position-based (40/20/40), the Markov chain removal effect (first order, computed exactly from
the absorbing chain) and Shapley values with the characteristic function of Zhao et al.,
"Shapley Value Methods for Attribution Modeling in Online Advertising" (2018):
v(S) = conversions of the paths whose touched set lies inside S, whose Shapley value has the
closed form sum over converting paths of 1/|distinct touches| (checked in the tests against
a brute-force enumeration of coalitions).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from crosspromo.businesses.models import Business
from crosspromo.campaigns.models import Campaign, Member
from crosspromo.customers.models import Customer
from crosspromo.errors import Invalid, NotFound
from crosspromo.measurement.audience_models import Arm, AudienceMember
from crosspromo.messaging import tracking
from crosspromo.offers.models import Click, Code, Offer, Redemption
from crosspromo.outbox.models import OutboxMessage, Status
from crosspromo.sales.models import Transaction

MODELS = ("first", "last", "linear", "time_decay", "position", "markov", "shapley")
CHANNELS = ("issued", "email", "message", "click", "redemption", "visit")
SENT_LABEL = "sent to customer "  # offers.distribution marks an e-mailed code this way
EMAIL_KEY = "offer-email:"  # offers.distribution's outbox key: offer-email:<offer>:<customer>
DEFAULT_HALF_LIFE = timedelta(days=7)
# Within one instant a code is issued, then e-mailed, clicked, redeemed; a purchase comes last.
ORDER = {
    "issued": 0,
    "email": 1,
    "message": 1,
    "click": 2,
    "redemption": 3,
    "visit": 4,
    "purchase": 5,
}

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Touch:
    """One touchpoint of a path: who made it, through which channel, when."""

    partner: uuid.UUID
    channel: str
    at: datetime

    @property
    def key(self) -> tuple[uuid.UUID, str]:
        return (self.partner, self.channel)


@dataclass(frozen=True)
class Path:
    """A person's touches in time order, and when they converted (None: not yet)."""

    touches: tuple[Touch, ...]
    converted_at: datetime | None = None

    @property
    def converted(self) -> bool:
        return self.converted_at is not None


# -- the models, on plain sequences of keys ------------------------------------------------


def first_touch(paths: Iterable[Path]) -> dict[tuple[uuid.UUID, str], float]:
    """All of each conversion to its first touch."""
    credit: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    for path in paths:
        if path.converted and path.touches:
            credit[path.touches[0].key] += 1.0
    return credit


def last_touch(paths: Iterable[Path]) -> dict[tuple[uuid.UUID, str], float]:
    """All of each conversion to its last touch."""
    credit: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    for path in paths:
        if path.converted and path.touches:
            credit[path.touches[-1].key] += 1.0
    return credit


def linear(paths: Iterable[Path]) -> dict[tuple[uuid.UUID, str], float]:
    """Each conversion split equally between its touches."""
    credit: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    for path in paths:
        if path.converted and path.touches:
            share = 1.0 / len(path.touches)
            for touch in path.touches:
                credit[touch.key] += share
    return credit


def time_decay(
    paths: Iterable[Path], half_life: timedelta = DEFAULT_HALF_LIFE
) -> dict[tuple[uuid.UUID, str], float]:
    """Each conversion split by weights that halve every `half_life` before it."""
    if half_life <= timedelta(0):
        raise Invalid("The half-life must be positive.", field="half_life_days")
    credit: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    for path in paths:
        if not (path.converted_at and path.touches):
            continue
        weights = [0.5 ** (max((path.converted_at - t.at) / half_life, 0.0)) for t in path.touches]
        total = sum(weights)
        for touch, weight in zip(path.touches, weights, strict=True):
            credit[touch.key] += weight / total
    return credit


def position_weights(n: int) -> list[float]:
    """40 % to the first touch, 40 % to the last, 20 % shared by those between."""
    if n == 1:
        return [1.0]
    if n == 2:
        return [0.5, 0.5]
    middle = 0.2 / (n - 2)
    return [0.4] + [middle] * (n - 2) + [0.4]


def position_based(paths: Iterable[Path]) -> dict[tuple[uuid.UUID, str], float]:
    """Each conversion split 40/20/40 between first, middle and last touches."""
    credit: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    for path in paths:
        if path.converted and path.touches:
            for touch, weight in zip(
                path.touches, position_weights(len(path.touches)), strict=True
            ):
                credit[touch.key] += weight
    return credit


def summarise(paths: Iterable[Path]) -> Counter[tuple[tuple[Any, ...], bool]]:
    """How many persons followed each sequence of keys, converting or not."""
    counts: Counter[tuple[tuple[Any, ...], bool]] = Counter()
    for path in paths:
        if path.touches:
            counts[(tuple(t.key for t in path.touches), path.converted)] += 1
    return counts


def _conversion_probability(
    transitions: dict[Any, Counter[Any]], states: list[Any], removed: Any = None
) -> float:
    """P(reach conversion from start) in the absorbing chain, with `removed` leading nowhere."""
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    q = np.zeros((n, n))
    r = np.zeros(n)
    for state, outs in transitions.items():
        if state == removed:
            continue
        total = sum(outs.values())
        i = index[state]
        for target, count in outs.items():
            if target == "(conversion)":
                r[i] += count / total
            elif target in index and target != removed:
                q[i, index[target]] += count / total
            # "(null)" and the removed state absorb without converting
    absorbed = np.linalg.solve(np.eye(n) - q, r)
    return float(absorbed[index["(start)"]])


def markov_removal(
    counts: Counter[tuple[tuple[K, ...], bool]],
) -> tuple[dict[K, float], dict[K, float]]:
    """First-order Markov attribution: (conversions credited, removal effect) per key."""
    transitions: dict[Any, Counter[Any]] = defaultdict(Counter)
    conversions = 0
    keys: set[K] = set()
    for (sequence, converted), n in counts.items():
        if not sequence:
            continue
        steps: list[Any] = ["(start)", *sequence, "(conversion)" if converted else "(null)"]
        for a, b in zip(steps, steps[1:], strict=False):
            transitions[a][b] += n
        keys.update(sequence)
        conversions += n if converted else 0
    if not conversions:
        return dict.fromkeys(keys, 0.0), dict.fromkeys(keys, 0.0)
    states: list[Any] = ["(start)", *sorted(keys, key=repr)]
    base = _conversion_probability(transitions, states)
    effects = {k: 1.0 - _conversion_probability(transitions, states, k) / base for k in keys}
    total = sum(effects.values())
    credit = {k: conversions * e / total if total else 0.0 for k, e in effects.items()}
    return credit, effects


def shapley(counts: Counter[tuple[tuple[K, ...], bool]]) -> dict[K, float]:
    """Shapley values of v(S) = conversions of paths whose touched set lies inside S."""
    credit: dict[K, float] = defaultdict(float)
    for (sequence, converted), n in counts.items():
        for key in sequence:
            credit.setdefault(key, 0.0)
        if converted and sequence:
            players = set(sequence)
            for key in players:
                credit[key] += n / len(players)
    return dict(credit)


@dataclass
class _Seen:
    """Counts paths and touched keys while a stream of paths goes by."""

    paths: int = 0
    converting: int = 0
    keys: set[tuple[uuid.UUID, str]] = field(default_factory=set)

    def watch(self, paths: Iterable[Path]) -> Iterator[Path]:
        for path in paths:
            self.paths += 1
            self.converting += path.converted
            self.keys.update(t.key for t in path.touches)
            yield path


def credit(
    paths: Iterable[Path],
    model: str,
    *,
    half_life: timedelta = DEFAULT_HALF_LIFE,
    seen: _Seen | None = None,
) -> dict[tuple[uuid.UUID, str], float]:
    """Conversions credited to each (partner, channel) by `model`, in one pass over paths."""
    seen = seen or _Seen()
    stream = seen.watch(paths)
    if model == "first":
        found: dict[tuple[uuid.UUID, str], float] = dict(first_touch(stream))
    elif model == "last":
        found = dict(last_touch(stream))
    elif model == "linear":
        found = dict(linear(stream))
    elif model == "time_decay":
        found = dict(time_decay(stream, half_life))
    elif model == "position":
        found = dict(position_based(stream))
    elif model == "markov":
        found = markov_removal(summarise(stream))[0]
    elif model == "shapley":
        found = shapley(summarise(stream))
    else:
        raise Invalid(f"Use one of the models {', '.join(MODELS)}.", field="model")
    for key in seen.keys:  # every touched pair is listed, with zero if it earned nothing
        found.setdefault(key, 0.0)
    return found


# -- paths from the database ---------------------------------------------------------------


def _hex(column: Any) -> Any:
    """A UUID column as 32 hex digits on both engines (SQLite stores it so already)."""
    return func.lower(func.replace(cast(column, String), "-", ""))


def _window(session: Session, campaign: Campaign) -> tuple[datetime | None, datetime | None]:
    """The campaign's dates as UTC instants, in the zone of the business that created it."""
    business = session.get(Business, campaign.created_by_business_id)
    zone = ZoneInfo(business.timezone if business and business.timezone else "UTC")

    def instant(day: Any) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    start = instant(campaign.starts_on) if campaign.starts_on else None
    end = instant(campaign.ends_on + timedelta(days=1)) if campaign.ends_on else None
    return start, end


def _touch_rows(session: Session, campaign: Campaign) -> Any:
    """One SQL statement: (person, at, kind, partner, target) for every touch and purchase."""
    offers = select(Offer.id).where(Offer.campaign_id == campaign.id)
    offer_ids = list(session.scalars(offers))
    members = select(Member.business_id).where(Member.campaign_id == campaign.id)
    personal = Code.label.startswith(SENT_LABEL)
    code_person = func.lower(func.replace(func.substr(Code.label, len(SENT_LABEL) + 1), "-", ""))

    issued = (
        select(
            code_person.label("person"),
            Code.created_at.label("at"),
            literal("issued").label("kind"),
            Offer.issuer_business_id.label("partner"),
            Offer.honouring_business_id.label("target"),
        )
        .join(Offer, Offer.id == Code.offer_id)
        .where(Offer.campaign_id == campaign.id, personal)
    )

    start = len(EMAIL_KEY) + 1
    email_offer = func.lower(func.replace(func.substr(OutboxMessage.key, start, 36), "-", ""))
    email_person = func.lower(func.replace(func.substr(OutboxMessage.key, start + 37), "-", ""))
    prefixes = [OutboxMessage.key.startswith(f"{EMAIL_KEY}{oid}:") for oid in offer_ids]
    email = (
        select(
            email_person.label("person"),
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at).label("at"),
            literal("email").label("kind"),
            Offer.issuer_business_id.label("partner"),
            Offer.honouring_business_id.label("target"),
        )
        .join(Offer, _hex(Offer.id) == email_offer)
        .where(
            or_(*prefixes) if prefixes else literal(False),
            OutboxMessage.status.not_in([Status.skipped, Status.dead]),
            Offer.campaign_id == campaign.id,
        )
    )

    click = (
        select(
            func.coalesce(
                func.nullif(func.coalesce(code_person, ""), ""),
                literal("a:") + Click.address_hash,
            ).label("person"),
            Click.at.label("at"),
            literal("click").label("kind"),
            Offer.issuer_business_id.label("partner"),
            Offer.honouring_business_id.label("target"),
        )
        .join(Code, Code.id == Click.code_id)
        .join(Offer, Offer.id == Click.offer_id)
        .where(Offer.campaign_id == campaign.id)
    )

    reversal = aliased(Redemption)
    known = aliased(Customer)
    by_hash = (
        select(_hex(known.id))
        .where(
            known.business_id == Offer.issuer_business_id,
            or_(
                known.email_hash == Redemption.customer_hash,
                known.phone_hash == Redemption.customer_hash,
            ),
        )
        .order_by(known.id)
        .limit(1)
        .scalar_subquery()
    )
    redemption = (
        select(
            func.coalesce(
                func.nullif(func.coalesce(code_person, ""), ""),
                by_hash,
                literal("h:") + Redemption.customer_hash,
                literal("r:") + _hex(Redemption.id),
            ).label("person"),
            Redemption.at.label("at"),
            literal("redemption").label("kind"),
            Redemption.referrer_business_id.label("partner"),
            Redemption.business_id.label("target"),
        )
        .join(Code, Code.id == Redemption.code_id)
        .join(Offer, Offer.id == Redemption.offer_id)
        .where(
            Offer.campaign_id == campaign.id,
            Redemption.reverses_id.is_(None),
            ~exists().where(reversal.reverses_id == Redemption.id),
        )
    )

    # The audience: the issuers' customers a personal code was sent to, with their hashes.
    # The treatment arm of a control group got the offer when it was drawn (or, drawn after
    # the start as for an imported past promotion, when the campaign began); customers with a
    # personal code have their `issued` touch from the code already.
    window_start, window_end = _window(session, campaign)
    drawn: Any = AudienceMember.drawn_at
    if window_start is not None:
        drawn = case(
            (AudienceMember.drawn_at < window_start, AudienceMember.drawn_at), else_=window_start
        )
    member = _hex(AudienceMember.customer_id)
    has_code = (
        select(Code.id)
        .where(Code.offer_id.in_(offer_ids or [None]), personal, code_person == member)
        .exists()
    )
    treated = (
        select(
            member.label("person"),
            drawn.label("at"),
            literal("issued").label("kind"),
            Offer.issuer_business_id.label("partner"),
            Offer.honouring_business_id.label("target"),
        )
        .join(
            Offer,
            and_(
                Offer.campaign_id == AudienceMember.campaign_id,
                Offer.issuer_business_id == AudienceMember.business_id,
            ),
        )
        .where(
            AudienceMember.campaign_id == campaign.id,
            AudienceMember.arm == Arm.treatment,
            ~has_code,
        )
    )

    # The audience: the issuers' customers a personal code was sent to, or who were in the
    # treatment arm, with their hashes.
    coded = (
        select(Customer.id.label("id"))
        .join(Offer, Offer.issuer_business_id == Customer.business_id)
        .join(Code, Code.offer_id == Offer.id)
        .where(Offer.campaign_id == campaign.id, personal, code_person == _hex(Customer.id))
    )
    armed = select(AudienceMember.customer_id.label("id")).where(
        AudienceMember.campaign_id == campaign.id, AudienceMember.arm == Arm.treatment
    )
    reached = union(coded, armed).subquery()
    audience = (
        select(
            _hex(Customer.id).label("person"),
            Customer.email_hash.label("email_hash"),
            Customer.phone_hash.label("phone_hash"),
        )
        .join(reached, reached.c.id == Customer.id)
        .cte("audience")
    )
    buyer = aliased(Customer)
    bought: list[Any] = [Transaction.business_id.in_(members)]
    if window_start is not None:
        bought.append(Transaction.at >= window_start)
    if window_end is not None:
        bought.append(Transaction.at < window_end)

    def purchases(match: Any) -> Any:
        return (
            select(
                audience.c.person,
                Transaction.at.label("at"),
                literal("purchase").label("kind"),
                Transaction.business_id.label("partner"),
                Transaction.business_id.label("target"),
                Transaction.id.label("ref"),
            )
            .join(buyer, buyer.id == Transaction.customer_id)
            .join(audience, match)
            .where(*bought)
        )

    purchase = union(
        purchases(audience.c.person == _hex(buyer.id)),
        purchases(and_(buyer.email_hash.is_not(None), audience.c.email_hash == buyer.email_hash)),
        purchases(and_(buyer.phone_hash.is_not(None), audience.c.phone_hash == buyer.phone_hash)),
    ).subquery()
    purchase_rows = select(
        purchase.c.person, purchase.c.at, purchase.c.kind, purchase.c.partner, purchase.c.target
    )
    message = tracking.touch_rows(session, campaign.id, _hex)
    everything = union_all(
        issued, treated, email, message, click, redemption, purchase_rows
    ).subquery()
    return select(everything).order_by(everything.c.person, everything.c.at)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _walk(events: list[tuple[datetime, str, uuid.UUID, uuid.UUID]], honouring: set[Any]) -> Path:
    """One person's events in time order -> the path up to and including the conversion."""
    touches: list[Touch] = []
    aimed: set[Any] = set()  # businesses a touch so far pointed the person at
    for at, kind, partner, target in sorted(events, key=lambda e: (e[0], ORDER[e[1]])):
        if kind == "purchase":
            if partner in honouring and partner in aimed:
                return Path(tuple(touches), at)
            touches.append(Touch(partner, "visit", at))
            continue
        touches.append(Touch(partner, kind, at))
        aimed.add(target)
        if kind == "redemption":  # a code used at the till is a purchase there
            return Path(tuple(touches), at)
    return Path(tuple(touches), None)


def paths(session: Session, *, campaign_id: uuid.UUID) -> Iterator[Path]:
    """The campaign's customer paths, one person at a time (streamed, never all in memory)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    honouring = set(
        session.scalars(select(Offer.honouring_business_id).where(Offer.campaign_id == campaign.id))
    )
    person: str | None = None
    events: list[tuple[datetime, str, uuid.UUID, uuid.UUID]] = []
    rows = session.execute(_touch_rows(session, campaign), execution_options={"yield_per": 1000})
    for row in rows:
        if row.person != person:
            if events:
                path = _walk(events, honouring)
                if path.touches:
                    yield path
            person, events = row.person, []
        events.append((_utc(row.at), row.kind, row.partner, row.target))
    if events:
        path = _walk(events, honouring)
        if path.touches:
            yield path


# -- the answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    partner_id: uuid.UUID
    partner: str
    channel: str
    conversions: float  # conversions credited
    share: float  # of all credited conversions, 0..1


@dataclass
class Attribution:
    campaign_id: uuid.UUID
    model: str
    half_life_days: float
    paths: int
    converting_paths: int
    rows: list[Credit] = field(default_factory=list)

    def by_partner(self) -> list[tuple[str, float]]:
        totals: dict[str, float] = defaultdict(float)
        for row in self.rows:
            totals[row.partner] += row.conversions
        return sorted(totals.items(), key=lambda kv: -kv[1])

    def by_channel(self) -> list[tuple[str, float]]:
        totals: dict[str, float] = dict.fromkeys(CHANNELS, 0.0)
        for row in self.rows:
            totals[row.channel] += row.conversions
        return [(c, totals[c]) for c in CHANNELS if c in {r.channel for r in self.rows}]


def attribute(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    model: str = "markov",
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> Attribution:
    """Conversions of a campaign credited per partner and channel by one model."""
    if model not in MODELS:
        raise Invalid(f"Use one of the models {', '.join(MODELS)}.", field="model")
    seen = _Seen()
    credited = credit(
        paths(session, campaign_id=campaign_id), model, half_life=half_life, seen=seen
    )
    names = {
        b.id: b.name
        for b in session.scalars(
            select(Business).where(Business.id.in_({p for p, _ in credited} or {None}))
        )
    }
    total = sum(credited.values())
    rows = [
        Credit(
            partner_id=partner,
            partner=names.get(partner, ""),
            channel=channel,
            conversions=round(value, 6),
            share=round(value / total, 6) if total else 0.0,
        )
        for (partner, channel), value in credited.items()
    ]
    rows.sort(key=lambda r: (-r.conversions, r.partner, CHANNELS.index(r.channel)))
    return Attribution(
        campaign_id=campaign_id,
        model=model,
        half_life_days=half_life / timedelta(days=1),
        paths=seen.paths,
        converting_paths=seen.converting,
        rows=rows,
    )


__all__ = [
    "CHANNELS",
    "MODELS",
    "Attribution",
    "Credit",
    "Path",
    "Touch",
    "attribute",
    "credit",
    "markov_removal",
    "paths",
    "shapley",
]
