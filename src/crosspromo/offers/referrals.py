"""Referral links: a visit to a link's landing page is counted and logged; taking the code is paid.

Every visit (a GET of the landing page) bumps the link's `clicks` counter (a conditional
UPDATE, so concurrent visits never lose a count) and writes an unpaid `Click` row. Only a
person's act, taking the code (a POST from the page's button, which link-preview bots and
prefetchers never send), may write a paid `Click` row. The visitor's address is stored only
as an HMAC under the install secret, so the log can tell repeat visits apart without holding
anyone's IP.

The paid-click rule, under a `per_click` agreement: taking the code earns the issuer the option's
`payment_minor` from the honouring business when
  * the campaign is running (an old link keeps working as a page but no longer costs money),
  * the visitor is not a known robot or link preview (messengers fetch a shared link once for
    its preview; that fetch is logged but not paid), and
  * it is the first paid click of that address on that link that day, the day taken in the
    honouring business's time zone (it is the one who pays). The unique constraint on
    (code, address hash, paid day) decides between simultaneous clicks; the loser is logged
    unpaid.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Stage
from crosspromo.db import utcnow
from crosspromo.errors import NotFound
from crosspromo.offers import codes, money
from crosspromo.offers.models import Accrual, Click, Code, CodeKind, Offer

USER_AGENT_MAX = 200
LANGUAGE_MAX = 100
# Robots and link previews (Telegram, WhatsApp, Slack, Facebook, search engines, scripts).
ROBOTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|whatsapp|telegram|"
    r"headless|curl/|wget/|python-|httpx|go-http-client|java/",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    """A referral link with what its landing page shows."""

    code: Code
    offer: Offer
    honouring: Business
    issuer: Business
    display: str  # the code as shown at the till and in the link, e.g. CAFE-7KQ2-M9XP-4TRH
    running: bool  # whether the campaign runs now


def display_code(code: Code, offer: Offer) -> str:
    """The link's code with separators, as people read it and as it appears in the URL."""
    pattern = codes.CodePattern(prefix=offer.code_prefix, groups=10, group_size=4)
    return codes.format(code.code, pattern)


def links_of(
    session: Session, offer_ids: list[uuid.UUID], public_url: str, per_offer: int = 50
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """Each offer's referral links as (full URL, label), oldest first, for people to copy."""
    found: dict[uuid.UUID, list[tuple[str, str]]] = {oid: [] for oid in offer_ids}
    if not offer_ids:
        return found
    rows = session.execute(
        select(Code, Offer)
        .join(Offer, Offer.id == Code.offer_id)
        .where(Code.offer_id.in_(offer_ids), Code.kind == CodeKind.link)
        .order_by(Code.offer_id, Code.created_at, Code.id)
    ).all()
    base = public_url.rstrip("/")
    for code, offer in rows:
        if len(found[offer.id]) < per_offer:
            found[offer.id].append((f"{base}/r/{display_code(code, offer)}", code.label))
    return found


def address_hash(address: str, secret_key: str) -> str:
    """Keyed HMAC of a client address: repeat visits match, the address is not kept."""
    return hmac.new(
        secret_key.encode(), f"click-address:{address}".encode(), hashlib.sha256
    ).hexdigest()


def is_robot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(ROBOTS.search(user_agent))


def find(session: Session, token: str) -> Link:
    """The referral link with this token (its code in any spelling); NotFound otherwise."""
    normalized = codes.normalize(token)
    if not 3 <= len(normalized) <= 64:
        raise NotFound("No such link.")
    # Codes are unique per honouring business; a link's 40+ random bits make a clash across
    # businesses practically impossible, and the oldest link wins if one ever happens.
    code = session.scalars(
        select(Code)
        .where(Code.code == normalized, Code.kind == CodeKind.link)
        .order_by(Code.created_at, Code.id)
        .limit(1)
    ).first()
    if code is None:
        raise NotFound("No such link.")
    offer = session.get(Offer, code.offer_id)
    assert offer is not None
    honouring = session.get(Business, offer.honouring_business_id)
    issuer = session.get(Business, offer.issuer_business_id)
    assert honouring is not None and issuer is not None
    running = campaigns.stage_of(session, offer.campaign_id) is Stage.running
    return Link(code, offer, honouring, issuer, display_code(code, offer), running)


def _insert_click(session: Session, values: dict[str, object], paid: bool) -> uuid.UUID | None:
    """Insert the click; a paid one only if no paid click holds its (code, address, day)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Click).values(**values, id=uuid.uuid4())
    if paid:
        statement = statement.on_conflict_do_nothing(
            index_elements=["code_id", "address_hash", "paid_on"]
        )
    made = session.execute(statement.returning(Click.id)).scalar()
    return made


def click(
    session: Session,
    token: str,
    *,
    address: str,
    user_agent: str,
    accept_language: str,
    secret_key: str,
    taken: bool = False,
    now: datetime | None = None,
) -> tuple[Link, Click | None]:
    """Count and log a visit (GET) or, when `taken` (POST), accrue a paid click by the rule."""
    link = find(session, token)
    now = now or utcnow()
    if not taken:
        session.execute(
            update(Code)
            .where(Code.id == link.code.id, Code.kind == CodeKind.link)
            .values(clicks=Code.clicks + 1)
            .execution_options(synchronize_session=False)
        )
    hashed = address_hash(address, secret_key)
    terms = money.terms_for(session, link.offer)
    option = terms[1] if terms else {}
    payable = (
        taken
        and option.get("payment_model") == "per_click"
        and bool(option.get("payment_minor"))
        and link.running
        and not is_robot(user_agent)
    )
    values: dict[str, object] = {
        "offer_id": link.offer.id,
        "code_id": link.code.id,
        "address_hash": hashed,
        "user_agent": user_agent[:USER_AGENT_MAX],
        "accept_language": accept_language[:LANGUAGE_MAX],
        "at": now,
    }
    made = None
    if payable:
        day = now.astimezone(ZoneInfo(link.honouring.timezone)).date()
        made = _insert_click(session, values | {"paid_on": day}, paid=True)
    paid = made is not None
    if made is None and taken:
        session.flush()
        return link, None  # not payable, or paid already today: the visit is logged
    if made is None:
        made = _insert_click(session, values | {"paid_on": None}, paid=False)
    if paid and terms is not None:
        session.add(
            Accrual(
                proposal_id=terms[0],
                code_id=link.code.id,
                kind="click",
                payer_business_id=link.offer.honouring_business_id,
                payee_business_id=link.offer.issuer_business_id,
                amount_minor=int(option["payment_minor"]),
                currency=option.get("currency") or link.offer.currency,
                at=now,
            )
        )
    session.flush()
    logged = session.get(Click, made)
    assert logged is not None
    return link, logged
