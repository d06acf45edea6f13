"""`crosspromo worker`: runs scheduled jobs and delivers the outbox, retrying with backoff."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.db import unit_of_work
from crosspromo.outbox import service
from crosspromo.outbox.models import Status
from crosspromo.outbox.senders import Deferred, NotConfigured, send_email
from crosspromo.settings import Settings

log = logging.getLogger("crosspromo.worker")
# Sent rows are purged on this schedule (and by `crosspromo outbox purge`).
PURGE_EVERY = 3600.0
# A failure's text may quote the recipient (SMTP "recipient refused <anna@...>"); logs and the
# stored error keep only the first character of the local part and the domain.
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
PHONE = re.compile(r"\+\d[\d ()-]{6,}(\d{2})")


def mask(text: str) -> str:
    """The text with e-mail addresses and phone numbers masked."""
    return PHONE.sub(r"***\1", EMAIL.sub(r"\1***@\2", text))


# A sender may return the receiver's HTTP status (webhooks), kept for the delivery log.
Sender = Callable[[Settings, str, dict[str, Any]], int | None]
SENDERS: dict[str, Sender] = {"email": send_email}
# A step before sending that reads what the stored payload leaves out (a webhook's secret),
# in its own short transaction; it may raise NotConfigured.
Prepare = Callable[[Session, dict[str, Any]], dict[str, Any]]
PREPARERS: dict[str, Prepare] = {}
# After a message settles, its kind may record the outcome (a delivery marked sent, a refused
# address suppressed) in the same transaction as the settle; it gets the exception, if any.
Settled = Callable[[Session, dict[str, Any], Status, BaseException | None], None]
SETTLED: dict[str, Settled] = {}
# Work the worker does itself rather than send (a coupon print): it gets the session factory,
# writes its own progress and outcome, and returns once done; what it raises is retried.
Task = Callable[[sessionmaker[Session], Settings, str, dict[str, Any]], None]
TASKS: dict[str, Task] = {}
# Periodic jobs (due-date reminders...) register here; each runs once per tick in its own
# transaction and must be idempotent (they key what they enqueue).
JOBS: list[Callable[[Session], int]] = []
# A kind that sends many messages at once (one claim, one connection, bulk writes: e-mail
# broadcasts) registers its batch size and handler; it gets the claimed ids, sends them and
# settles each, and returns how many it handled. Other kinds go one by one.
Batch = Callable[[sessionmaker[Session], Settings, list[uuid.UUID]], int]
BATCHES: dict[str, tuple[int, Batch]] = {}
# A Redis job lock outlives a crashed worker by at most this long.
JOB_LOCK_SECONDS = 600


def response_code(exc: BaseException) -> int | None:
    """The HTTP status in a failure that got an answer (httpx's HTTPStatusError), else None."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def deliver(factory: sessionmaker[Session], settings: Settings, *, limit: int = 20) -> int:
    """Claim a batch, send each message outside any transaction, record each outcome."""
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    done = 0
    for kind, (size, batch) in BATCHES.items():
        with unit_of_work(factory) as session:
            claimed = service.claim(session, limit=size, lease=lease, kinds=[kind])
        if claimed:
            done += batch(factory, settings, claimed)
    with unit_of_work(factory) as session:
        ids = service.claim(session, limit=limit, lease=lease, exclude=list(BATCHES))
    for message_id in ids:
        with unit_of_work(factory) as session:
            message = service.load(session, [message_id])[0]
            kind, payload = message.kind, dict(message.payload)
        failure: BaseException | None = None
        code: int | None = None
        try:
            task = TASKS.get(kind)
            if task is not None:
                task(factory, settings, str(message_id), payload)
            else:
                prepare = PREPARERS.get(kind)
                if prepare is not None:
                    with unit_of_work(factory) as session:
                        payload = prepare(session, payload)
                code = SENDERS[kind](settings, str(message_id), payload)
        except Deferred as exc:
            with unit_of_work(factory) as session:
                service.defer(session, service.load(session, [message_id])[0], exc.until)
            done += 1
            continue
        except Exception as exc:  # any failure of the outside world is retried later
            failure = exc
        with unit_of_work(factory) as session:
            record(session, settings, message_id, kind, payload, failure, code)
        done += 1
    return done


def record(
    session: Session,
    settings: Settings,
    message_id: uuid.UUID,
    kind: str,
    payload: dict[str, Any],
    failure: BaseException | None,
    code: int | None = None,
) -> None:
    """Settle one attempt: sent, skipped (NotConfigured), or failed and retried later; `code`
    is the receiver's HTTP status where the sender got one."""
    status, error = Status.sent, None
    if isinstance(failure, NotConfigured):
        status = Status.skipped
        log.info("outbox %s skipped: %s", message_id, mask(str(failure)))
    elif failure is not None:
        error = mask(f"{type(failure).__name__}: {failure}")
        code = response_code(failure)
        log.warning("outbox %s failed: %s", message_id, error)
    message = service.load(session, [message_id])[0]
    service.settle(
        session,
        message,
        error=error,
        status=status,
        max_attempts=settings.outbox_max_attempts,
        response_code=code,
    )
    after = SETTLED.get(kind)
    if after is not None:
        after(session, payload, message.status, failure)


def job_name(job: Callable[..., Any]) -> str:
    return f"{job.__module__}.{job.__qualname__}"


@contextmanager
def redis_lock(url: str, name: str, *, seconds: int = JOB_LOCK_SECONDS) -> Iterator[bool]:
    """Hold the Redis lock `name` (True) or learn another worker holds it (False)."""
    import redis

    client = redis.Redis.from_url(url)
    lock = client.lock(f"crosspromo:job:{name}", timeout=seconds, blocking=False)
    got = lock.acquire(blocking=False)
    try:
        yield bool(got)
    finally:
        if got:
            try:
                lock.release()
            except redis.exceptions.LockError:  # expired while the job ran: nothing to free
                log.warning("job lock %s expired before the job ended", name)
        client.close()


def try_job_lock(session: Session, name: str) -> bool:
    """On PostgreSQL, a transaction-scoped advisory lock: one worker runs the job at a time.

    Transaction-scoped (not session) locks are safe behind pgbouncer in transaction mode. On
    SQLite one writer runs at a time anyway, and every job is idempotent.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))")
    return bool(session.execute(key, {"name": "crosspromo.job:" + name}).scalar_one())


def run_job(
    factory: sessionmaker[Session], settings: Settings, job: Callable[[Session], int]
) -> int | None:
    """Run one periodic job unless another worker is running it right now."""
    name = job_name(job)
    if settings.redis_url:
        with redis_lock(settings.redis_url, name) as mine:
            if not mine:
                return None
            with unit_of_work(factory) as session:
                return job(session)
    with unit_of_work(factory) as session:
        if not try_job_lock(session, name):
            return None
        return job(session)


def tick(factory: sessionmaker[Session], settings: Settings) -> int:
    """One round: the periodic jobs, then the outbox until nothing is due."""
    for job in JOBS:
        run_job(factory, settings, job)
    total = 0
    while True:
        sent = deliver(factory, settings)
        total += sent
        if sent == 0:
            return total


def purge(factory: sessionmaker[Session], settings: Settings) -> int:
    """Delete sent outbox rows older than the kept days, in one short transaction."""
    with unit_of_work(factory) as session:
        gone = service.purge_sent(session, keep=timedelta(days=settings.outbox_keep_days))
    if gone:
        log.info("outbox: purged %d sent messages", gone)
    return gone


def run(factory: sessionmaker[Session], settings: Settings, *, interval: float, once: bool) -> None:
    next_purge = 0.0
    while True:
        if time.monotonic() >= next_purge:
            purge(factory, settings)
            next_purge = time.monotonic() + PURGE_EVERY
        tick(factory, settings)
        if once:
            return
        time.sleep(interval)
