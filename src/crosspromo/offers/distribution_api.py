"""JSON API for handing out an offer's codes: a printable coupon PDF, e-mail to customers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from slugify import slugify
from starlette.responses import Response

from crosspromo.offers import distribution
from crosspromo.offers.auth import MemberOffer
from crosspromo.offers.schemas import EmailsSent
from crosspromo.web.deps import ApiActor, Db

router = APIRouter(prefix="/api/v1", tags=["offers and redemptions"])


def file_name(title: str, layout: str) -> str:
    """ "Free croissant" -> free-croissant-coupons.pdf (Cyrillic transliterated: ASCII only)."""
    suffix = "coupons" if layout == "a4" else f"coupons-{layout}"
    return f"{slugify(title, max_length=60) or 'offer'}-{suffix}.pdf"


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
            le=10**9,  # past MAX_COUPONS the service answers, naming `after`
            description=f"at most {distribution.MAX_COUPONS:,} per request",
        ),
    ] = None,
    after: Annotated[str, Query(description="the last code of the previous sheet")] = "",
) -> Response:
    """Cut-out coupons with QR codes (A4 sheets of 10, or business cards), for a brochure stand.

    The header `X-Next-After` carries the cursor for the next sheet when codes remain.
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
    headers = {
        "Content-Disposition": f'attachment; filename="{file_name(offer.title, layout)}"',
        "X-Coupons": str(sheet.count),
    }
    if sheet.next_after:
        headers["X-Next-After"] = sheet.next_after
    return Response(sheet.pdf, media_type="application/pdf", headers=headers)


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
