"""The upload page: same checks and summary as the CLI, with progress while it runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.models import Role
from crosspromo.accounts.pages import page
from crosspromo.businesses import service as businesses
from crosspromo.errors import DomainError, NotFound
from crosspromo.imports import jobs, service, upload
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid

router = APIRouter(include_in_schema=False)
BUSY_RETRY_AFTER = 60


@router.get("/b/{business_id}/imports")
def imports_page(request: Request, business_id: str, web: SignedIn, db: Db) -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    return page(
        request,
        web,
        "imports/upload.html",
        business=business,
        kinds=service.KINDS,
        recent=jobs.recent(db, business_id=business.id),
        error=None,
    )


@router.post("/b/{business_id}/imports", dependencies=[Csrf])
async def upload_file(request: Request, business_id: str, web: SignedIn, db: Db) -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    settings = request.app.state.settings
    form = await request.form()
    kind = str(form.get("kind", ""))
    file = form.get("file")
    error = None
    status = 422
    if kind not in service.KINDS:
        error = "Choose what the file holds."
    elif not isinstance(file, UploadFile) or not file.filename:
        error = "Choose a file."
    place = jobs.pool(settings.import_workers, settings.import_queue)
    if error is None and not place.reserve():
        # every import thread is busy and the queue is full: refuse before copying the file
        status = 503
    elif error is None and isinstance(file, UploadFile):
        try:
            path, size = await upload.save(file)
        except DomainError as exc:
            place.release()
            error = exc.detail
        else:
            try:
                job = jobs.start(
                    db,
                    business_id=business.id,
                    user_id=web.user.id if web.user else None,
                    kind=kind,
                    filename=file.filename or "upload",
                    dry_run="dry_run" in form,
                    total_bytes=size,
                )
                db.commit()
            except BaseException:
                place.release()
                path.unlink(missing_ok=True)
                raise
            jobs.run_in_pool(
                place,
                request.app.state.sessions,
                job_id=job.id,
                path=path,
                actor=web.actor,
                business=None if kind == "businesses" else business.slug,
                secret_key=request.app.state.secret_key,
                max_line_bytes=settings.import_max_line_bytes,
                max_bytes=settings.import_max_bytes,
                max_rows=settings.import_max_rows,
                date_format=str(form.get("date_format") or "") or None,
            )
            return RedirectResponse(f"/b/{business.id}/imports/{job.id}", status_code=303)
    response = page(
        request,
        web,
        "imports/upload.html",
        status=status,
        business=business,
        kinds=service.KINDS,
        recent=jobs.recent(db, business_id=business.id),
        error=error,
        busy=status == 503,
    )
    if status == 503:
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


@router.get("/b/{business_id}/imports/{job_id}")
def job_page(request: Request, business_id: str, job_id: str, web: SignedIn, db: Db) -> Response:
    business = businesses.get(db, web.actor, parse_uuid(business_id), need=Role.manager)
    job = jobs.get(db, business_id=business.id, job_id=parse_uuid(job_id))
    if job is None:
        raise NotFound("No such import.")
    template = "imports/_job.html" if request.headers.get("hx-request") else "imports/job.html"
    return page(request, web, template, business=business, job=job)
