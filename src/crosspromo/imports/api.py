"""POST /api/v1/imports/{kind}: multipart upload for scripts; answers with the summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from crosspromo.auth import ManagerBusiness
from crosspromo.errors import Invalid, NotFound
from crosspromo.imports import mapping, schemas, service, template, upload
from crosspromo.web.deps import ApiActor, Db

router = APIRouter(prefix="/api/v1", tags=["imports"])


@router.post("/imports/{kind}")
def import_file(
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
    columns: Annotated[
        str | None,
        Form(
            alias="mapping",
            max_length=100_000,
            description='JSON {"file header": "field"}, e.g. {"Дата": "at", "Чек": "id"}; '
            "headers left out take the remembered mapping, else the suggested one",
        ),
    ] = None,
) -> dict[str, Any]:
    """Validate the whole file, then apply it in one transaction; 422 lists every bad line."""
    if kind not in service.KINDS:
        raise Invalid(
            f"Unknown kind {kind!r}; use one of {', '.join(service.KINDS)}.", field="kind"
        )
    chosen = schemas.parse_columns(columns)
    path, _size = upload.save(file)
    settings = request.app.state.settings
    try:
        summary = service.run(
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
            columns=chosen,
        )
    finally:
        path.unlink(missing_ok=True)
    return summary.to_dict()


def _kind(kind: str) -> str:
    if kind not in template.KINDS:
        raise NotFound(f"No mapping for {kind!r}; use one of {', '.join(template.KINDS)}.")
    return kind


@router.post("/businesses/{business_id}/imports/{kind}/mapping")
def suggest_mapping(
    kind: str, business: ManagerBusiness, db: Db, body: schemas.HeadersIn
) -> schemas.MappingOut:
    """The mapping for a file with these headers: remembered for its shape, else suggested."""
    found, remembered = mapping.starting_point(
        db,
        business_id=business.id,
        kind=_kind(kind),
        headers=body.headers,
        known=service.KNOWN[kind],
    )
    return schemas.MappingOut(
        mapping=found,
        remembered=remembered,
        fields=list(service.KNOWN[kind]),
        required=[f for f in service.REQUIRED[kind] if f != "business"],
    )


@router.get("/imports/templates/{kind}.{fmt}")
def download_template(kind: str, fmt: str, actor: ApiActor, lang: str = "en") -> Response:
    """A blank file for `kind` (CSV or XLSX), headers in English or Russian (`lang=ru`)."""
    if fmt not in template.FORMATS:
        raise NotFound("Templates come as .csv or .xlsx.")
    return template.response(_kind(kind), "ru" if lang == "ru" else "en", fmt)
