"""The one redemption flow of the JSON API and the till page: validate, redeem, reverse.

Around the rules in `offers.service` it adds what both doors must do alike: throttling per
caller and per address, the Idempotency-Key, the audit row, and the 409 for a second
simultaneous reversal. A success's audit row and stored answer commit with the effect, in the
request's transaction. A refusal rolls the request's transaction back first, then keeps its
audit row (and the key's refused answer) in its own short unit of work: the separate session
below is the only other transaction a till request opens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.auth import Actor
from crosspromo.businesses.models import Business
from crosspromo.db import unit_of_work
from crosspromo.errors import DomainError
from crosspromo.offers import audit, codes, idempotency, service, throttle, webhooks
from crosspromo.offers.models import Redemption
from crosspromo.offers.schemas import Till
from crosspromo.settings import Settings
from crosspromo.web.problems import PROBLEM_BASE


@dataclass(frozen=True)
class Context:
    """One till request: its transaction, who asks and from where, and the app's settings."""

    db: Session
    sessions: sessionmaker[Session]
    actor: Actor
    address: str
    secret_key: str
    settings: Settings


def context(request: Request, db: Session, actor: Actor) -> Context:
    """The flow's context for an HTTP request (API or page)."""
    return Context(
        db=db,
        sessions=request.app.state.sessions,
        actor=actor,
        address=request.client.host if request.client else "",
        secret_key=request.app.state.secret_key,
        settings=request.app.state.settings,
    )


@dataclass(frozen=True)
class Answer:
    """A redemption's answer: new, or replayed for a repeated Idempotency-Key."""

    status: int
    body: dict[str, Any]
    redemption: Redemption | None = None
    replayed: bool = False


def answer(redemption: Redemption) -> dict[str, Any]:
    """A redemption as the API shows it and an Idempotency-Key stores it."""
    return webhooks.redemption_data(redemption) | {"reason": redemption.reason}


def refusal_body(exc: DomainError, instance: str) -> dict[str, Any]:
    """The problem+json body of a refusal, as stored for a repeated Idempotency-Key."""
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


def throttled(ctx: Context) -> None:
    """Count one till attempt for the caller and for the address, or refuse with 429."""
    settings = ctx.settings
    throttle.hit(settings.rate_limit_storage, settings.till_rate_limit, ctx.actor.caller)
    throttle.hit(
        settings.rate_limit_storage, settings.till_rate_limit_per_address, "addr", ctx.address
    )


@contextmanager
def _apart(ctx: Context) -> Iterator[Session]:
    """The refusal's own unit of work, after the request's transaction has rolled back."""
    ctx.db.rollback()
    with unit_of_work(ctx.sessions) as session:
        yield session


def _audit(
    session: Session,
    ctx: Context,
    action: str,
    code: str,
    outcome: str,
    business_id: uuid.UUID | None,
    redemption_id: uuid.UUID | None = None,
) -> None:
    audit.add(
        session,
        action=action,
        code=code,
        outcome=outcome,
        caller=ctx.actor.caller,
        address=ctx.address,
        business_id=business_id,
        redemption_id=redemption_id,
    )


def validate(ctx: Context, business: Business, data: Till) -> service.Verdict:
    """Check a code for an order: the verdict and an audit row, no other effect."""
    throttled(ctx)
    code = codes.normalize(data.code)
    try:
        verdict = service.check(ctx.db, business, data, secret_key=ctx.secret_key)
    except DomainError as exc:
        with _apart(ctx) as apart:
            _audit(apart, ctx, "validate", code, exc.kind, business.id)
        raise
    failed = verdict.failed
    outcome = failed.detail if failed is not None else "ok"
    _audit(ctx.db, ctx, "validate", code, outcome, business.id)
    return verdict


def redeem(
    ctx: Context, business: Business, data: Till, *, idempotency_key: str | None, instance: str
) -> Answer:
    """Redeem once; a repeated Idempotency-Key with the same order gets the first answer."""
    throttled(ctx)
    scope = ctx.actor.caller
    code = codes.normalize(data.code)
    digest = idempotency.body_hash(data.model_dump(mode="json"))
    if idempotency_key is not None:
        stored = idempotency.begin(ctx.db, scope, idempotency_key, digest)
        if stored is not None:
            ctx.db.rollback()
            return Answer(status=stored[0], body=stored[1], replayed=True)
    stored_body: dict[str, Any] = {}

    def alongside(redemption: Redemption) -> None:
        # The stored answer and the audit row, written before the offer's row is locked.
        stored_body.update(answer(redemption))
        if idempotency_key is not None:
            idempotency.finish(ctx.db, scope, idempotency_key, 201, stored_body)
        _audit(ctx.db, ctx, "redeem", code, "ok", business.id, redemption.id)

    try:
        redemption = service.redeem(
            ctx.db,
            ctx.actor,
            data,
            secret_key=ctx.secret_key,
            cashier_user_id=ctx.actor.user_id,
            business=business,
            before_lock=alongside,
        )
    except DomainError as exc:
        with _apart(ctx) as apart:
            if idempotency_key is not None:
                refused = refusal_body(exc, instance)
                idempotency.remember_refusal(
                    apart, scope, idempotency_key, digest, exc.status, refused
                )
            _audit(apart, ctx, "redeem", code, exc.kind, business.id)
        raise
    # One transaction per redemption, its audit row included (on SQLite each commit takes
    # the database's write lock; bench/redemption_http.py).
    return Answer(status=201, body=stored_body, redemption=redemption)


def reverse(ctx: Context, redemption_id: uuid.UUID, reason: str) -> Redemption:
    """Reverse a redemption once; a second reversal, even a simultaneous one, is a 409."""
    throttled(ctx)
    original = service.get_redemption(ctx.db, ctx.actor, redemption_id)
    business_id = original.business_id
    code = str(redemption_id)
    try:
        try:
            reversal = service.reverse(
                ctx.db, ctx.actor, redemption_id, reason, cashier_user_id=ctx.actor.user_id
            )
            ctx.db.flush()
        except IntegrityError:
            # The unique reverses_id refused a simultaneous second reversal.
            raise service.Refused(
                "already-reversed", service.MESSAGES["already-reversed"], status=409
            ) from None
    except DomainError as exc:
        with _apart(ctx) as apart:
            _audit(apart, ctx, "reverse", code, exc.kind, business_id)
        raise
    _audit(ctx.db, ctx, "reverse", code, "ok", business_id, reversal.id)
    return reversal
