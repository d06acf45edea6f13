"""The one redemption flow of the JSON API and the till page: validate, redeem, reverse.

Around the rules in `offers.service` it adds what both doors must do alike: throttling per
caller and per address, the Idempotency-Key, the audit row, and the 409 for a second
simultaneous reversal. A success's audit row and stored answer commit with the effect, in the
request's transaction. A refusal rolls the request's transaction back first, then keeps its
audit row (and the key's refused answer) in its own short unit of work: the separate session
below is the only other transaction a till request opens.

With the rate-limit counters in the app's own database (the default), an attempt is counted
in that same transaction, success or refusal, as its last statement: one write transaction
per till request instead of three (on SQLite each one queues for the single write lock; the
counters' own transactions were 72 % of a redemption's time under 16 clients,
docs/performance.md). Counting last also orders the locks: the counters' rows are taken after
every other row (the offer's), by every flow, so two requests never wait on each other in a
circle. A request found past a limit is rolled back like any refusal and its attempt counted
in the refusal's transaction; the process then refuses that caller or address at once until
the window ends (`throttle.SpentWindows`), which is what the shared counter would answer.
Other storages (Redis, memory) are counted up front through `limits`, as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crosspromo import rate_limits
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
    windows: throttle.SpentWindows


def context(request: Request, db: Session, actor: Actor) -> Context:
    """The flow's context for an HTTP request (API or page)."""
    state = request.app.state
    windows = getattr(state, "till_windows", None)
    if windows is None:  # one per app: a process may serve apps on several databases (tests)
        windows = state.till_windows = throttle.SpentWindows()
    return Context(
        db=db,
        sessions=state.sessions,
        actor=actor,
        address=request.client.host if request.client else "",
        secret_key=state.secret_key,
        settings=state.settings,
        windows=windows,
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


def _limits(ctx: Context) -> list[throttle.Limit]:
    settings = ctx.settings
    return [
        throttle.Limit(settings.till_rate_limit, (ctx.actor.caller,)),
        throttle.Limit(settings.till_rate_limit_per_address, ("addr", ctx.address)),
    ]


def _counted_within(ctx: Context) -> bool:
    """Whether the counters live in the app's own database, so a transaction can count."""
    settings = ctx.settings
    return settings.rate_limit_storage == rate_limits.storage_uri(settings.resolved_database_url())


def throttled(ctx: Context) -> None:
    """Before the work: 429 for a caller or address known to be past its limit; counters kept
    elsewhere (Redis, memory) count the attempt now."""
    if _counted_within(ctx):
        ctx.windows.refuse_if_spent(_limits(ctx))
        return
    settings = ctx.settings
    throttle.hit(settings.rate_limit_storage, settings.till_rate_limit, ctx.actor.caller)
    throttle.hit(
        settings.rate_limit_storage, settings.till_rate_limit_per_address, "addr", ctx.address
    )


def count(ctx: Context, session: Session) -> None:
    """Count the attempt in `session`'s transaction, as its last statement; 429 past a limit."""
    if _counted_within(ctx):
        throttle.count(session, ctx.windows, _limits(ctx))


def refused(
    ctx: Context, exc: DomainError, keep: Callable[[Session, DomainError], None]
) -> NoReturn:
    """Roll the request back, then in the refusal's own unit of work keep its rows (`keep`: the
    audit row, the key's refused answer) and count the attempt. Past a limit the answer is 429
    and only the count is kept, as when a limit refuses up front."""
    ctx.db.rollback()
    if not isinstance(exc, throttle.RateLimited):
        try:
            with unit_of_work(ctx.sessions) as session:
                keep(session, exc)
                count(ctx, session)
        except throttle.RateLimited as over:
            exc = over  # the refusal's rows went back with its transaction
        else:
            raise exc
    with unit_of_work(ctx.sessions) as session:
        try:
            count(ctx, session)
        except throttle.RateLimited as over:
            exc = over
    raise exc


def _nothing(_session: Session, _exc: DomainError) -> None:
    """A refusal that keeps no row of its own (only its count)."""


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
        failed = verdict.failed
        outcome = failed.detail if failed is not None else "ok"
        _audit(ctx.db, ctx, "validate", code, outcome, business.id)
        count(ctx, ctx.db)
    except DomainError as exc:
        refused(
            ctx, exc, lambda apart, e: _audit(apart, ctx, "validate", code, e.kind, business.id)
        )
    return verdict


def redeem(
    ctx: Context, business: Business, data: Till, *, idempotency_key: str | None, instance: str
) -> Answer:
    """Redeem once; a repeated Idempotency-Key with the same order gets the first answer."""
    throttled(ctx)
    scope = ctx.actor.caller
    code = codes.normalize(data.code)
    digest = idempotency.body_hash(data.model_dump(mode="json"))
    stored_body: dict[str, Any] = {}

    def alongside(redemption: Redemption) -> None:
        # The stored answer and the audit row, written before the offer's row is locked.
        stored_body.update(answer(redemption))
        if idempotency_key is not None:
            idempotency.finish(ctx.db, scope, idempotency_key, 201, stored_body)
        _audit(ctx.db, ctx, "redeem", code, "ok", business.id, redemption.id)

    def keep(apart: Session, exc: DomainError) -> None:
        if idempotency_key is not None:
            body = refusal_body(exc, instance)
            idempotency.remember_refusal(apart, scope, idempotency_key, digest, exc.status, body)
        _audit(apart, ctx, "redeem", code, exc.kind, business.id)

    if idempotency_key is not None:
        try:
            stored = idempotency.begin(ctx.db, scope, idempotency_key, digest)
            if stored is not None:
                # A replay: nothing of this request is written but its count.
                ctx.db.rollback()
                count(ctx, ctx.db)
                return Answer(status=stored[0], body=stored[1], replayed=True)
        except DomainError as exc:  # a malformed or reused key: counted, nothing kept
            refused(ctx, exc, _nothing)
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
        count(ctx, ctx.db)
    except DomainError as exc:
        refused(ctx, exc, keep)
    # One transaction per redemption, its audit row and count included (on SQLite each
    # commit takes the database's write lock; bench/redemption_http.py).
    return Answer(status=201, body=stored_body, redemption=redemption)


def reverse(ctx: Context, redemption_id: uuid.UUID, reason: str) -> Redemption:
    """Reverse a redemption once; a second reversal, even a simultaneous one, is a 409."""
    throttled(ctx)
    code = str(redemption_id)
    business_id: uuid.UUID | None = None
    try:
        original = service.get_redemption(ctx.db, ctx.actor, redemption_id)
        business_id = original.business_id
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
        _audit(ctx.db, ctx, "reverse", code, "ok", business_id, reversal.id)
        count(ctx, ctx.db)
    except DomainError as exc:
        if business_id is None:  # no redemption of the caller's: counted, not audited
            refused(ctx, exc, _nothing)
        refused(ctx, exc, lambda apart, e: _audit(apart, ctx, "reverse", code, e.kind, business_id))
    return reversal
