"""The upload page: same checks and summary as the CLI, with progress while it runs."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.businesses.models import Business
from crosspromo.db import unit_of_work
from crosspromo.errors import DomainError, Invalid, NotFound
from crosspromo.imports import jobs, mapping, messages, service, template, upload
from crosspromo.imports.reader import FileProblem, open_table
from crosspromo.web import i18n
from crosspromo.web.deps import Csrf, Db, SignedIn, WebContext, parse_uuid
from crosspromo.web.forms import PostedForm

router = APIRouter(include_in_schema=False)
BUSY_RETRY_AFTER = 60
PREVIEW_ROWS = 5
N_ = i18n.N_
FIELD_LABELS = {
    "business": N_("Business id"),
    "id": N_("Receipt number"),
    "at": N_("Date and time"),
    "amount": N_("Amount"),
    "customer": N_("Customer (id or card)"),
    "currency": N_("Currency"),
    "items": N_("Items"),
    "name": N_("Customer name"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "marketing_consent": N_("Marketing consent"),
    "first_seen": N_("First seen"),
}


@router.get("/b/{business_id}/imports")
def imports_page(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db
) -> Response:
    return page(
        request,
        web,
        "imports/upload.html",
        business=business,
        kinds=service.KINDS,
        recent=jobs.recent(db, business_id=business.id),
        error=None,
        templates=template.KINDS,
        formats=tuple(template.FORMATS),
    )


@router.post("/b/{business_id}/imports", dependencies=[Csrf])
def upload_file(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    settings = request.app.state.settings
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
        if kind in template.KINDS:
            # Customers and sales first go through the column mapping step; the place is
            # taken again when the owner confirms it.
            place.release()
            try:
                token, _size = upload.keep(file, business.id, request.app.state.settings.var_dir)
            except DomainError as exc:
                error = exc.detail
            else:
                return _mapping_page(
                    request,
                    web,
                    db,
                    business,
                    kind=kind,
                    token=token,
                    filename=file.filename or "upload",
                    dry_run="dry_run" in form,
                    date_format=str(form.get("date_format") or ""),
                )
        else:
            try:
                path, _size = upload.save(file)
            except DomainError as exc:
                place.release()
                error = exc.detail
            else:
                return _start(
                    request,
                    web,
                    business,
                    place=place,
                    path=path,
                    kind=kind,
                    filename=file.filename or "upload",
                    dry_run="dry_run" in form,
                    date_format=str(form.get("date_format") or ""),
                    columns=None,
                )
    return _upload_page(request, web, db, business, error=error, status=status)


def _upload_page(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    *,
    error: str | None,
    status: int,
) -> Response:
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
        templates=template.KINDS,
        formats=tuple(template.FORMATS),
    )
    if status == 503:
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


@router.get("/b/{business_id}/imports/{job_id}")
def job_page(
    request: Request, business: ManagerBusinessPage, job_id: str, web: SignedIn, db: Db
) -> Response:
    job = jobs.get(db, business_id=business.id, job_id=parse_uuid(job_id))
    if job is None:
        raise NotFound("No such import.")
    name = "imports/_job.html" if request.headers.get("hx-request") else "imports/job.html"
    return page(
        request,
        web,
        name,
        business=business,
        job=job,
        reason=messages.reason,
        line=messages.line,
        labels=FIELD_LABELS,
    )


def _template_file(request: Request, web: WebContext, kind: str, fmt: str) -> Response:
    if kind not in template.KINDS:
        raise NotFound("No such template.")
    return template.response(kind, i18n.pick_locale(request, web.user_locale), fmt)


@router.get("/b/{business_id}/imports/template/{kind}.csv")
def template_csv(
    request: Request, business: ManagerBusinessPage, web: SignedIn, kind: str
) -> Response:
    return _template_file(request, web, kind, "csv")


@router.get("/b/{business_id}/imports/template/{kind}.xlsx")
def template_xlsx(
    request: Request, business: ManagerBusinessPage, web: SignedIn, kind: str
) -> Response:
    return _template_file(request, web, kind, "xlsx")


def _preview(path: Path) -> tuple[list[str], list[list[str]]]:
    """The file's headers as written and its first rows, for the mapping step."""
    with open_table(path) as table:
        rows = [
            [row.values.get(c, "") for c in table.columns]
            for row in itertools.islice(table.rows, PREVIEW_ROWS)
        ]
        return table.headers, rows


def _mapping_page(
    request: Request,
    web: WebContext,
    db: Db,
    business: Business,
    *,
    kind: str,
    token: str,
    filename: str,
    dry_run: bool,
    date_format: str,
    chosen: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    path = upload.kept(business.id, token, request.app.state.settings.var_dir)
    try:
        headers, rows = _preview(path)
    except FileProblem as exc:
        path.unlink(missing_ok=True)
        return _upload_page(request, web, db, business, error=messages.reason(str(exc)), status=422)
    suggested, remembered = mapping.starting_point(
        db, business_id=business.id, kind=kind, headers=headers, known=service.KNOWN[kind]
    )
    options = [f for f in service.KNOWN[kind] if f != "business"]
    return page(
        request,
        web,
        "imports/mapping.html",
        status=422 if error else 200,
        business=business,
        kind=kind,
        token=token,
        filename=filename,
        dry_run=dry_run,
        date_format=date_format,
        headers=headers,
        rows=rows,
        chosen=chosen or suggested,
        remembered=remembered and chosen is None,
        options=options,
        labels=FIELD_LABELS,
        required=[f for f in service.REQUIRED[kind] if f != "business"],
        error=error,
    )


@router.post("/b/{business_id}/imports/map", dependencies=[Csrf])
def map_columns(
    request: Request, business: ManagerBusinessPage, web: SignedIn, db: Db, form: PostedForm
) -> Response:
    kind = str(form.get("kind", ""))
    if kind not in template.KINDS:
        raise NotFound("No such import kind.")
    token = str(form.get("token", ""))
    path = upload.kept(business.id, token, request.app.state.settings.var_dir)
    state: dict[str, Any] = {
        "kind": kind,
        "token": token,
        "filename": str(form.get("filename") or "upload")[:255],
        "dry_run": "dry_run" in form,
        "date_format": str(form.get("date_format") or ""),
    }
    try:
        headers, _rows = _preview(path)
    except FileProblem as exc:
        return _upload_page(request, web, db, business, error=messages.reason(str(exc)), status=422)
    chosen = {h: str(form.get(f"column-{n}", "")) for n, h in enumerate(headers)}
    try:
        used = mapping.combine(kind, headers, service.KNOWN[kind], chosen, chosen)
        missing = [f for f in service.REQUIRED[kind] if f != "business" and f not in used.values()]
        if missing:
            raise Invalid(
                i18n.gettext(
                    "Choose a column for: %(fields)s.",
                    fields=", ".join(i18n.gettext(FIELD_LABELS[f]) for f in missing),
                ),
                field="mapping",
            )
    except Invalid as exc:
        why = messages.reason(exc.detail)
        return _mapping_page(request, web, db, business, chosen=chosen, error=why, **state)
    place = jobs.pool(
        request.app.state.settings.import_workers, request.app.state.settings.import_queue
    )
    if not place.reserve():
        return _upload_page(request, web, db, business, error=None, status=503)
    del state["token"]
    return _start(request, web, business, place=place, path=path, columns=used, **state)


def _start(
    request: Request,
    web: WebContext,
    business: Business,
    *,
    place: jobs.Pool,
    path: Path,
    kind: str,
    filename: str,
    dry_run: bool,
    date_format: str,
    columns: dict[str, str] | None,
) -> Response:
    """Record the job and run it in its reserved place; the page then shows its progress."""
    settings = request.app.state.settings
    try:
        # The import thread reads the job's row, so the row gets its own short unit of
        # work, committed before the thread starts (the request's commits later). The
        # chosen mapping goes with it: the request holds no write while the thread runs.
        with unit_of_work(request.app.state.sessions) as own:
            if columns is not None:
                mapping.remember(own, business_id=business.id, kind=kind, mapping=columns)
            job = jobs.start(
                own,
                business_id=business.id,
                user_id=web.user.id if web.user else None,
                kind=kind,
                filename=filename,
                dry_run=dry_run,
                total_bytes=path.stat().st_size,
            )
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
        date_format=date_format or None,
        columns=columns,
    )
    return RedirectResponse(f"/b/{business.id}/imports/{job.id}", status_code=303)
