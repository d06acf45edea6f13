"""Till operations with their side effects: permission, idempotency, webhooks, the answer.

The API, the till page and the CLI call these, so they cannot drift apart. Each runs in the
caller's unit of work; a refusal sent with an Idempotency-Key is remembered in its own short
unit of work, so a retry gets the same refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import unit_of_work
from crosspromo.errors import DomainError, Invalid, NotFound
from crosspromo.loyalty import printing, service
from crosspromo.loyalty.models import Card, Transaction
from crosspromo.loyalty.schemas import CardIn, CardSheetIn, EarnIn, ReversalIn, SpendIn
from crosspromo.offers import audit, idempotency, webhooks

PROBLEM_BASE = "/problems/"


@dataclass
class Attempt:
    """What the audit log keeps of a refused till operation."""

    action: str  # loyalty_earn, loyalty_spend, loyalty_reverse, loyalty_enrol
    card: str
    business_id: uuid.UUID | None
    address: str = ""


def problem_body(exc: DomainError, instance: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.kind,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": instance,
    }
    if exc.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    return body | exc.extensions


def idempotent(
    session: Session,
    sessions: sessionmaker[Session],
    *,
    scope: str,
    key: str | None,
    request: dict[str, Any],
    instance: str,
    run: Callable[[], dict[str, Any]],
    status: int = 201,
    attempt: Attempt | None = None,
) -> tuple[int, dict[str, Any], bool]:
    """Run once per (scope, key): the answer, its status, and whether it was replayed.

    A refusal is kept in the till's audit log (`attempt`) in its own unit of work.
    """
    digest = idempotency.body_hash(request | {"instance": instance})
    if key is not None:
        stored = idempotency.begin(session, scope, key, digest)
        if stored is not None:
            return stored[0], stored[1], True
    try:
        try:
            answer = run()
            session.flush()
        except IntegrityError:
            # A unique constraint refused a simultaneous twin (same receipt, same reversal).
            raise service.Refused("order-already-recorded") from None
        except OperationalError:
            # A deadlock between two first uses of the same new account, or a lock wait that
            # outlived the busy timeout: nothing was written; the till may simply retry.
            raise service.Refused("loyalty-retry", "The card was busy; try again.") from None
    except DomainError as exc:
        session.rollback()
        with unit_of_work(sessions) as own:
            # A transient refusal is not the key's answer: the same key may try again.
            if key is not None and exc.kind != "loyalty-retry":
                idempotency.remember_refusal(
                    own, scope, key, digest, exc.status, problem_body(exc, instance)
                )
            if attempt is not None:
                # The business named in the request may not exist (that may be the refusal).
                named = attempt.business_id
                known = named if named and businesses.by_ids(own, {named}) else None
                audit.add(
                    own,
                    action=attempt.action,
                    code=attempt.card,
                    outcome=exc.kind,
                    caller=scope,
                    address=attempt.address,
                    business_id=known,
                )
        raise
    if key is not None:
        idempotency.finish(session, scope, key, status, answer)
    return status, answer, False


def answer(session: Session, txn: Transaction, card: Card) -> dict[str, Any]:
    coalition = service.get_coalition(session, card.coalition_id)
    balance = service.balance(session, card)
    return {
        "transaction_id": str(txn.id),
        "kind": txn.kind.value,
        "card": service.display_number(card.number),
        "business_id": str(txn.business_id) if txn.business_id else None,
        "order_ref": txn.order_ref,
        "points": txn.points,
        "value_minor": txn.value_minor,
        "currency": coalition.currency,
        "balance": balance.available,
        "pending": balance.pending,
        "debt": balance.debt,
        "reverses_id": str(txn.reverses_id) if txn.reverses_id else None,
        "at": txn.at.isoformat(),
    }


def _till(
    session: Session, actor: Actor, business_id: uuid.UUID, card_text: str
) -> tuple[Business, Card]:
    business = businesses.get(session, actor, business_id, need=Role.cashier)
    return business, service.find_card(session, card_text, region=business.country)


def earn(session: Session, actor: Actor, data: EarnIn) -> dict[str, Any]:
    """Earn points on a receipt at the caller's business; announces loyalty.earned."""
    business, card = _till(session, actor, data.business_id, data.card)
    txn = service.earn(
        session,
        business=business,
        card=card,
        order_minor=data.order_minor,
        order_ref=data.order_ref,
        category=data.category,
        caller=actor.caller,
    )
    out = answer(session, txn, card)
    webhooks.announce_event(session, business.id, "loyalty.earned", str(txn.id), out)
    return out


def spend(session: Session, actor: Actor, data: SpendIn) -> dict[str, Any]:
    """Pay part of a receipt with points; announces loyalty.spent."""
    business, card = _till(session, actor, data.business_id, data.card)
    txn = service.spend(
        session,
        business=business,
        card=card,
        order_minor=data.order_minor,
        order_ref=data.order_ref,
        points=data.points,
        caller=actor.caller,
    )
    out = answer(session, txn, card)
    webhooks.announce_event(session, business.id, "loyalty.spent", str(txn.id), out)
    return out


def reverse(
    session: Session, actor: Actor, transaction_id: uuid.UUID, data: ReversalIn
) -> dict[str, Any]:
    """Refund an earn or reverse a spend at the business that made it; loyalty.reversed."""
    original, business = transaction_at(session, actor, transaction_id)
    txn = service.reverse(
        session,
        business=business,
        transaction_id=original.id,
        order_minor=data.order_minor,
        caller=actor.caller,
    )
    card = session.get(Card, txn.card_id)
    assert card is not None
    out = answer(session, txn, card)
    webhooks.announce_event(session, business.id, "loyalty.reversed", str(txn.id), out)
    return out


def enrol(session: Session, actor: Actor | None, data: CardIn) -> dict[str, Any]:
    """A new card with consent; at a till (actor given) or on the public page (no actor).

    With `data.card` (at a till only), the printed blank card is activated instead.
    """
    coalition = service.get_coalition(session, data.coalition_id)
    business: Business | None
    if actor is not None:
        business = businesses.get(session, actor, data.business_id, need=Role.cashier)
        service.active_member(session, coalition.id, business.id)
    else:
        business = session.get(Business, data.business_id)
    holder: dict[str, Any] = {
        "consent": data.consent,
        "phone": data.phone,
        "email": data.email,
        "marketing_consent": data.marketing_consent,
        "locale": data.locale,
    }
    if data.card is not None and actor is not None and business is not None:
        found = service.find_card(session, data.card, region=business.country)
        if found.coalition_id != coalition.id:
            raise service.Refused("card-other-coalition")
        card, token = service.activate(session, card=found, business=business, **holder)
    elif data.card is not None:
        raise service.Refused("card-not-activated", "A printed card is activated at a till.")
    else:
        card, token = service.enrol(session, coalition=coalition, business=business, **holder)
    out = {
        "card": service.display_number(card.number),
        "card_id": str(card.id),
        "coalition_id": str(coalition.id),
        "link": f"/loyalty/c/{token}",
        "marketing_consent": card.marketing_consent,
    }
    if business is not None:
        webhooks.announce_event(
            session,
            business.id,
            "loyalty.card_enrolled",
            str(card.id),
            {k: v for k, v in out.items() if k != "link"},
        )
    return out


def print_cards(
    session: Session, actor: Actor, coalition_id: uuid.UUID, data: CardSheetIn
) -> dict[str, Any]:
    """Cards for a member to print: `count` new blank ones, or the given cards of the coalition."""
    business = businesses.get(session, actor, data.business_id, need=Role.manager)
    coalition = service.coalition_for(session, business, coalition_id)
    if (data.count is None) == (not data.cards):
        raise Invalid("Give either count (new blank cards) or cards (to print).", field="count")
    if data.count is not None:
        cards = service.blank_cards(
            session, coalition=coalition, business=business, count=data.count, locale=data.locale
        )
    else:
        cards = []
        for text in data.cards:
            found = service.find_card(session, text, region=business.country)
            if found.coalition_id != coalition.id:
                raise service.Refused("card-other-coalition", card=text)
            cards.append(found)
    return {
        "coalition_id": str(coalition.id),
        "locale": data.locale,
        "cards": [
            {"card": service.display_number(c.number), "blank": c.activated_at is None}
            for c in cards
        ],
    }


def cards_pdf(session: Session, printed: dict[str, Any]) -> bytes:
    """The A4 sheets of a `print_cards` answer (the same PDF when a retry replays it)."""
    coalition = service.get_coalition(session, uuid.UUID(printed["coalition_id"]))
    cards = [
        printing.PrintedCard(c["card"], bool(c["blank"]), printed["locale"])
        for c in printed["cards"]
    ]
    return printing.card_sheet(cards, printing.programme(session, coalition))


def card_pdf(session: Session, card: Card, locale: str | None = None) -> bytes:
    """One card at its real size, front and back, in `locale` or the holder's language."""
    coalition = service.get_coalition(session, card.coalition_id)
    return printing.card_pdf(printing.printed(card, locale), printing.programme(session, coalition))


def balance_out(session: Session, card: Card) -> dict[str, Any]:
    bal = service.balance(session, card)
    slugs = {
        b.id: b.slug
        for b in session.query(Business).filter(
            Business.id.in_({lot.issuer_business_id for lot in bal.lots})
        )
    }
    return {
        "card": service.display_number(card.number),
        "blank": card.activated_at is None,
        "available": bal.available,
        "pending": bal.pending,
        "debt": bal.debt,
        "lots": [
            {
                "id": str(lot.id),
                "issuer": slugs.get(lot.issuer_business_id, str(lot.issuer_business_id)),
                "points": lot.points,
                "remaining": lot.remaining,
                "available_at": lot.available_at.isoformat(),
                "expires_at": lot.expires_at.isoformat(),
            }
            for lot in bal.lots
        ],
    }


def transaction_at(
    session: Session, actor: Actor, transaction_id: uuid.UUID
) -> tuple[Transaction, Business]:
    """A transaction made at a business the caller works for (cashiers too), and that business.

    404 for any other: an expiry (made at no business) and another tenant's transaction alike.
    """
    txn = service.get_transaction(session, transaction_id)
    if txn.business_id is None:
        raise NotFound("No such transaction.")
    return txn, businesses.get(session, actor, txn.business_id, need=Role.cashier)


def card_at(session: Session, business: Business, card_text: str) -> Card:
    """The card as a member's cashier may look it up: only cards of the business's coalitions.

    A card of another coalition is not found (404), so a lookup tells an outsider nothing.
    """
    card = service.find_card(session, card_text, region=business.country)
    if service.find_member(session, card.coalition_id, business.id) is None:
        raise service.Refused("card-other-coalition", status=404)
    return card
