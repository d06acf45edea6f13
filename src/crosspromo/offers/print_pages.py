"""Pages for big coupon prints: ask for one, watch its progress (htmx polling), download it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crosspromo.accounts.pages import page
from crosspromo.auth import ManagerBusinessPage
from crosspromo.offers import distribution, print_jobs
from crosspromo.web.deps import Csrf, Db, SignedIn, parse_uuid
from crosspromo.web.i18n import pick_locale

router = APIRouter(include_in_schema=False)


def _job_url(business_id: object, offer_id: object, job_id: object) -> str:
    return f"/b/{business_id}/offers/{offer_id}/print/{job_id}"


@router.post("/b/{business_id}/offers/{offer_id}/print", dependencies=[Csrf])
def start(
    request: Request,
    business: ManagerBusinessPage,
    offer_id: str,
    web: SignedIn,
    db: Db,
    layout: Annotated[str, Form(max_length=8)] = "a4",
    after: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Queue the print for the worker and show its progress page."""
    job = print_jobs.start(
        db,
        web.actor,
        parse_uuid(offer_id),
        layout=layout,
        locale=pick_locale(request, web.user_locale),
        after=after,
        public_url=request.app.state.settings.public_url,
    )
    return RedirectResponse(_job_url(business.id, job.offer_id, job.id), status_code=303)


@router.get("/b/{business_id}/offers/{offer_id}/print/{job_id}")
def progress(
    request: Request,
    business: ManagerBusinessPage,
    offer_id: str,
    job_id: str,
    web: SignedIn,
    db: Db,
) -> Response:
    """The job's progress; htmx asks for the bare section every second until it finishes."""
    job = print_jobs.get(db, web.actor, parse_uuid(offer_id), parse_uuid(job_id))
    name = (
        "offers/_print_job.html" if request.headers.get("hx-request") else "offers/print_job.html"
    )
    return page(
        request,
        web,
        name,
        business=business,
        job=job,
        url=_job_url(business.id, job.offer_id, job.id),
        finished=job.status in print_jobs.FINISHED,
        title=job.texts.get("title", ""),
    )


@router.get("/b/{business_id}/offers/{offer_id}/print/{job_id}/coupons.pdf")
def download(
    business: ManagerBusinessPage, offer_id: str, job_id: str, web: SignedIn, db: Db
) -> Response:
    job = print_jobs.get(db, web.actor, parse_uuid(offer_id), parse_uuid(job_id))
    body = print_jobs.pdf(job)
    name = distribution.file_name(str(job.texts.get("title", "")), job.layout)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
