"""Run an uploaded file's import in a background thread, recording progress in import_jobs."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.db import unit_of_work, utcnow
from crosspromo.errors import DomainError
from crosspromo.imports import service
from crosspromo.imports.models import ImportJob
from crosspromo.roles import Actor

log = logging.getLogger("crosspromo.imports")


def start(
    session: Session,
    *,
    business_id: uuid.UUID,
    user_id: uuid.UUID | None,
    kind: str,
    filename: str,
    dry_run: bool,
    total_bytes: int,
) -> ImportJob:
    """Record a new job; start its thread only once this row is committed."""
    job = ImportJob(
        business_id=business_id,
        user_id=user_id,
        kind=kind,
        filename=filename,
        dry_run=dry_run,
        total_bytes=total_bytes,
    )
    session.add(job)
    session.flush()
    return job


def get(session: Session, *, business_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob | None:
    return session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.business_id == business_id)
    )


def recent(session: Session, *, business_id: uuid.UUID, limit: int = 10) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob)
            .where(ImportJob.business_id == business_id)
            .order_by(ImportJob.created_at.desc())
            .limit(limit)
        )
    )


class Pool:
    """A fixed number of import threads and a bounded queue: an upload beyond both is refused.

    `reserve` takes a place before the upload is saved, so a refused upload costs nothing;
    `submit` runs the job in that place, which frees itself when the job ends.
    """

    def __init__(self, workers: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import")
        self._places = threading.BoundedSemaphore(workers + queue)

    def reserve(self) -> bool:
        return self._places.acquire(blocking=False)

    def release(self) -> None:
        self._places.release()

    def submit(self, task: Callable[[], None]) -> Future[None]:
        def run() -> None:
            try:
                task()
            finally:
                self.release()

        return self._executor.submit(run)


@cache
def pool(workers: int, queue: int) -> Pool:
    """The process's import pool for these sizes (the settings')."""
    return Pool(workers, queue)


def run_in_pool(
    place: Pool,
    sessions: sessionmaker[Session],
    *,
    job_id: uuid.UUID,
    path: Path,
    actor: Actor,
    business: str | None,
    secret_key: str,
    max_line_bytes: int,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
) -> Future[None]:
    """Run a recorded job in a place `reserve`d in the pool."""
    return place.submit(
        lambda: _run(
            sessions,
            job_id,
            path,
            actor,
            business,
            secret_key,
            max_line_bytes,
            max_bytes,
            max_rows,
            date_format,
            columns,
        )
    )


def _run(
    sessions: sessionmaker[Session],
    job_id: uuid.UUID,
    path: Path,
    actor: Actor,
    business: str | None,
    secret_key: str,
    max_line_bytes: int,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
) -> None:
    last = 0.0

    def progress(rows: int, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < 0.5:
            return
        last = now
        # A separate short transaction, so the page sees progress while the import runs.
        try:
            with unit_of_work(sessions) as side:
                side.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job_id)
                    .values(rows=rows, bytes_read=done, total_bytes=total)
                )
        except OperationalError:
            log.debug("progress of job %s not recorded: database busy", job_id)

    with unit_of_work(sessions) as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        try:
            summary = service.run(
                session,
                kind=job.kind,
                path=path,
                actor=actor,
                business=business,
                dry_run=job.dry_run,
                secret_key=secret_key,
                progress=progress,
                filename=job.filename,
                max_line_bytes=max_line_bytes,
                max_bytes=max_bytes,
                max_rows=max_rows,
                date_format=date_format,
                columns=columns,
                remember=False,  # the page remembered it when the owner confirmed it
            )
            status, result = "done", summary.to_dict()
        except service.ImportRejected as exc:
            session.rollback()
            status, result = "rejected", exc.summary.to_dict()
        except DomainError as exc:
            session.rollback()
            status, result = "rejected", {"errors": [exc.detail], "ok": False}
        except Exception:
            log.exception("import job %s failed", job_id)
            session.rollback()
            status, result = (
                "failed",
                {"errors": ["The import failed on our side; nothing was applied."], "ok": False},
            )
        job = session.get(ImportJob, job_id)
        assert job is not None
        job.status, job.summary, job.finished_at = status, result, utcnow()
        job.rows = int(result.get("rows", job.rows))
        job.bytes_read = job.total_bytes
    path.unlink(missing_ok=True)
