"""JSON API for handing out an offer's codes: printable coupons (at once, or as a background
job for big prints), e-mail to customers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import JSONResponse, Response

from crosspromo.offers import distribution, idempotency, print_jobs
from crosspromo.offers.auth import MemberOffer
from crosspromo.offers.models import PrintJob
from crosspromo.offers.schemas import EmailsSent, PrintIn, PrintJobOut
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1", tags=["offers and redemptions"])


@router.get(
    "/offers/{offer_id}/coupons.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def coupons_pdf(
    offer: MemberOffer,
    request: Request,
    actor: ApiActor,
    db: Db,
    layout: Literal["a4", "card"] = "a4",
    locale: Literal["en", "ru"] = "en",
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=10**9,  # past AT_ONCE the service answers, naming `after` and print jobs
            description=f"at most {distribution.AT_ONCE:,} per request; more: print-jobs",
        ),
    ] = None,
    after: Annotated[str, Query(description="the last code of the previous sheet")] = "",
) -> Response:
    """Cut-out coupons with QR codes (A4 sheets of 10, or business cards), for a brochure stand.

    At most 200 at once, rendered during the request; the header `X-Next-After` carries the
    cursor for the next sheet when codes remain. Big prints: POST `print-jobs`.
    """
    sheet = distribution.coupons_pdf(
        db,
        actor,
        offer.id,
        layout=layout,
        locale=locale,
        limit=limit,
        after=after,
        public_url=request.app.state.settings.public_url,
    )
    db.rollback()  # printing changes nothing
    name = distribution.file_name(offer.title, layout)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Coupons": str(sheet.count),
    }
    if sheet.next_after:
        headers["X-Next-After"] = sheet.next_after
    return Response(sheet.pdf, media_type="application/pdf", headers=headers)


def job_out(job: PrintJob) -> dict[str, Any]:
    status_url = f"/api/v1/offers/{job.offer_id}/print-jobs/{job.id}"
    return {
        "id": str(job.id),
        "offer_id": str(job.offer_id),
        "status": job.status.value,
        "done": job.done,
        "total": job.total,
        "layout": job.layout,
        "locale": job.locale,
        "next_after": job.next_after,
        "error": job.error,
        "pdf_bytes": job.pdf_bytes,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "status_url": status_url,
        "file_url": f"{status_url}/coupons.pdf" if job.status.value == "done" else None,
    }


@router.post(
    "/offers/{offer_id}/print-jobs",
    status_code=202,
    responses={202: {"model": PrintJobOut}},
)
def start_print(
    offer: MemberOffer,
    request: Request,
    actor: ApiActor,
    db: Db,
    body: PrintIn,
    idempotency_key: Annotated[
        str | None, Header(description="retry safely: same key and body, the same job")
    ] = None,
) -> Response:
    """Print coupons in the background (big prints: up to 10,000 per job, on every core).

    Poll `status_url` for progress (`done` of `total`); `file_url` gives the PDF once done.
    """
    # Keys are the caller's (scope up to 80 characters); the offer is part of the request.
    scope = f"print-job:{actor.caller}"
    digest = idempotency.body_hash({**body.model_dump(), "offer_id": str(offer.id)})
    if idempotency_key is not None:
        stored = idempotency.begin(db, scope, idempotency_key, digest)
        if stored is not None:
            job = print_jobs.get(db, actor, offer.id, parse_uuid(stored[1]["id"]))
            return JSONResponse(
                job_out(job), status_code=202, headers={"Idempotent-Replayed": "true"}
            )
    job = print_jobs.start(
        db,
        actor,
        offer.id,
        layout=body.layout,
        locale=body.locale,
        limit=body.limit,
        after=body.after,
        public_url=request.app.state.settings.public_url,
    )
    if idempotency_key is not None:
        idempotency.finish(db, scope, idempotency_key, 202, {"id": str(job.id)})
    answer = job_out(job)
    return JSONResponse(answer, status_code=202, headers={"Location": answer["status_url"]})


@router.get("/offers/{offer_id}/print-jobs/{job_id}", response_model=PrintJobOut)
def print_status(offer: MemberOffer, job_id: str, actor: ApiActor, db: Db) -> dict[str, Any]:
    """A print job's progress and, once done, the link to its PDF."""
    return job_out(print_jobs.get(db, actor, offer.id, parse_uuid(job_id)))


@router.get(
    "/offers/{offer_id}/print-jobs/{job_id}/coupons.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def print_file(offer: MemberOffer, job_id: str, actor: ApiActor, db: Db) -> Response:
    """The finished print job's PDF (409 while it is not done)."""
    job = print_jobs.get(db, actor, offer.id, parse_uuid(job_id))
    body = print_jobs.pdf(job)
    name = distribution.file_name(offer.title, job.layout)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Coupons": str(job.total),
    }
    if job.next_after:
        headers["X-Next-After"] = job.next_after
    return Response(body, media_type="application/pdf", headers=headers)


@router.post("/offers/{offer_id}/emails", response_model=EmailsSent)
def email_codes(
    offer: MemberOffer,
    request: Request,
    actor: ApiActor,
    db: Db,
    locale: Literal["en", "ru"] = "en",
) -> dict[str, Any]:
    """E-mail one unique code to each consenting customer of the issuer; re-runs add only new."""
    sent = distribution.email_codes(
        db,
        actor,
        offer.id,
        locale=locale,
        public_url=request.app.state.settings.public_url,
        secret_key=request.app.state.secret_key,
    )
    return {
        "sent": sent.sent,
        "already_sent": sent.already_sent,
        "skipped_no_consent": sent.skipped_no_consent,
        "skipped_no_email": sent.skipped_no_email,
        "skipped_no_code": sent.skipped_no_code,
        "held_out": sent.held_out,
    }
