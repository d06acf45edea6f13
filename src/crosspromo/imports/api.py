"""POST /api/v1/imports/{kind}: multipart upload for scripts; answers with the summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from crosspromo.errors import Invalid
from crosspromo.imports import service, upload
from crosspromo.web.deps import ApiActor, Db

router = APIRouter(prefix="/api/v1", tags=["imports"])


@router.post("/imports/{kind}")
async def import_file(
    request: Request,
    kind: str,
    actor: ApiActor,
    db: Db,
    file: Annotated[UploadFile, File(description="CSV, CSV.gz or XLSX")],
    business: Annotated[
        str | None, Form(description="id of the business the rows belong to")
    ] = None,
    dry_run: Annotated[bool, Form()] = False,
    date_format: Annotated[
        str | None,
        Form(max_length=10, description="DD/MM/YYYY or MM/DD/YYYY, for ambiguous dates"),
    ] = None,
) -> dict[str, Any]:
    """Validate the whole file, then apply it in one transaction; 422 lists every bad line."""
    if kind not in service.KINDS:
        raise Invalid(
            f"Unknown kind {kind!r}; use one of {', '.join(service.KINDS)}.", field="kind"
        )
    path, _size = await upload.save(file)
    settings = request.app.state.settings
    try:
        summary = await run_in_threadpool(
            service.run,
            db,
            kind=kind,
            path=path,
            actor=actor,
            business=business,
            dry_run=dry_run,
            date_format=date_format,
            secret_key=request.app.state.secret_key,
            filename=file.filename,
            max_line_bytes=settings.import_max_line_bytes,
            max_bytes=settings.import_max_bytes,
            max_rows=settings.import_max_rows,
        )
        if not dry_run:
            db.commit()
    finally:
        path.unlink(missing_ok=True)
    return summary.to_dict()
