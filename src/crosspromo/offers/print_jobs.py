"""Coupon prints as background jobs: asked for by a page, the API or the CLI, run by the worker.

`start` records the job and an outbox message `print:<job id>` in the caller's transaction;
`crosspromo worker` claims the message with a lease (so one worker runs it; a worker that dies
leaves it to another once the lease expires) and calls `run_message`, which renders the coupons
on every core (print_pool.py), writing progress in short transactions as chunks finish, then the
PDF into the row. A failure marks the job failed with the reason; it is not retried (asking
again starts a new job). Finished jobs are deleted after KEEP.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.db import unit_of_work, utcnow
from crosspromo.errors import Conflict, NotFound
from crosspromo.offers import distribution, print_pool
from crosspromo.offers.models import Offer, PrintJob, PrintStatus
from crosspromo.outbox import service as outbox
from crosspromo.roles import Actor
from crosspromo.settings import Settings

log = logging.getLogger("crosspromo.offers.print")
KIND = "print"  # the outbox kind the worker runs with `run_message`
KEEP = timedelta(days=7)
STALE = timedelta(minutes=5)  # a job running longer was left by a dead process: run it again
FINISHED = (PrintStatus.done, PrintStatus.failed)


def start(
    session: Session,
    actor: Actor,
    offer_id: uuid.UUID,
    *,
    layout: str = "a4",
    locale: str = "en",
    limit: int | None = None,
    after: str = "",
    public_url: str,
    queue: bool = True,
) -> PrintJob:
    """Record a print of the offer's usable codes and queue it for the worker (unless the
    caller runs it itself: the CLI); managers of the issuer or the honourer."""
    offer, texts = distribution.check_print(
        session, actor, offer_id, layout=layout, locale=locale, limit=limit
    )
    job = PrintJob(
        offer_id=offer.id,
        requested_by=actor.caller[:100],
        layout=layout,
        locale=locale,
        limit_count=limit,
        after=after[:64],
        public_url=public_url[:300],
        texts=texts,
        status=PrintStatus.queued,
    )
    session.add(job)
    session.flush()
    if queue:
        outbox.enqueue(session, kind=KIND, key=f"print:{job.id}", payload={"job_id": str(job.id)})
    return job


def get(session: Session, actor: Actor, offer_id: uuid.UUID, job_id: uuid.UUID) -> PrintJob:
    """One print job of the offer, for the parties that may print it (NotFound otherwise)."""
    distribution.check_print(session, actor, offer_id)
    job = session.scalar(
        select(PrintJob).where(PrintJob.id == job_id, PrintJob.offer_id == offer_id)
    )
    if job is None:
        raise NotFound("No such print job.")
    return job


def load(session: Session, job_id: uuid.UUID) -> PrintJob:
    """A job by id, for the process that runs it (no permission check: it was checked at start)."""
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound("No such print job.")
    return job


def pdf(job: PrintJob) -> bytes:
    """The finished job's PDF; Conflict while it is not done."""
    if job.status is not PrintStatus.done or job.pdf is None:
        raise Conflict(
            "The coupons are still printing; ask for the job's status until it is done.",
            kind="print-not-ready",
        )
    return job.pdf


def _note(factory: sessionmaker[Session], job_id: uuid.UUID, **values: Any) -> None:
    """Progress in its own short transaction, so pages see it while the job runs."""
    try:
        with unit_of_work(factory) as session:
            session.execute(update(PrintJob).where(PrintJob.id == job_id).values(**values))
    except OperationalError:  # SQLite busy: the next chunk's note will do
        log.debug("progress of print job %s not recorded: database busy", job_id)


def run(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    processes: int | None = None,
    size: int | None = None,
    renderer: print_pool.Render = print_pool.render_chunk,
    progress: print_pool.Progress | None = None,
    stale: timedelta = STALE,
) -> PrintStatus | None:
    """Render one job (the worker's and the CLI's path) and record its outcome; None when it
    is finished, gone, or running elsewhere (started less than `stale` ago)."""
    with unit_of_work(factory) as session:
        now = utcnow()
        claimed = session.execute(
            update(PrintJob)
            .where(
                PrintJob.id == job_id,
                or_(
                    PrintJob.status == PrintStatus.queued,
                    (PrintJob.status == PrintStatus.running) & (PrintJob.started_at < now - stale),
                ),
            )
            .values(status=PrintStatus.running, started_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = session.get(PrintJob, job_id)
        assert job is not None
        offer = session.get(Offer, job.offer_id)
        layout, locale = job.layout, job.locale
        try:
            if offer is None:
                raise NotFound("The offer was deleted.")
            # Without a limit, the first MAX_COUPONS and the cursor to print the rest.
            limit = job.limit_count or distribution.MAX_COUPONS
            picked, next_after = distribution.pick_codes(
                session, offer, limit=limit, after=job.after
            )
        except Exception as exc:
            error: str | None = str(getattr(exc, "detail", exc))
        else:
            error = None
            batch = distribution.coupons(offer, picked, job.texts, job.public_url)
            job.done, job.total, job.next_after, job.error = 0, len(batch), next_after, ""
    if error is not None:
        _finish(factory, job_id, error=error)
        return PrintStatus.failed

    def moved(done: int, total: int) -> None:
        _note(factory, job_id, done=done)
        if progress is not None:
            progress(done, total)

    try:
        body = print_pool.render(
            batch,
            layout="card" if layout == "card" else "a4",
            locale=locale,
            processes=processes,
            size=size,
            progress=moved,
            renderer=renderer,
        )
    except Exception as exc:
        log.warning("print job %s failed: %s", job_id, exc)
        _finish(
            factory,
            job_id,
            error=str(exc)
            if isinstance(exc, print_pool.ChunkFailed)
            else f"{type(exc).__name__}: {exc}",
        )
        return PrintStatus.failed
    _finish(factory, job_id, pdf=body)
    return PrintStatus.done


def _finish(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    pdf: bytes | None = None,
    error: str | None = None,
) -> None:
    with unit_of_work(factory) as session:
        job = session.get(PrintJob, job_id)
        if job is None:
            return
        job.finished_at = utcnow()
        if error is not None:
            job.status, job.error = PrintStatus.failed, error[:2000]
            return
        job.status, job.pdf, job.pdf_bytes, job.done = (
            PrintStatus.done,
            pdf,
            len(pdf or b""),
            job.total,
        )


def run_message(
    factory: sessionmaker[Session], settings: Settings, message_id: str, payload: dict[str, Any]
) -> None:
    """The worker's task for an outbox message of kind `print`."""
    # A job left running by a worker that died is taken over once the message's lease ends.
    run(
        factory,
        uuid.UUID(payload["job_id"]),
        stale=timedelta(seconds=settings.outbox_lease_seconds),
    )


def purge(session: Session, *, keep: timedelta = KEEP, now: datetime | None = None) -> int:
    """Delete jobs finished longer than `keep` ago, PDFs with them (a periodic worker job)."""
    cutoff = (now or utcnow()) - keep
    result = session.execute(
        delete(PrintJob)
        .where(PrintJob.status.in_(FINISHED), PrintJob.finished_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
