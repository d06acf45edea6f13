"""JSON, CSV and PDF statements between a business and one partner for a period."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.businesses import service as businesses
from crosspromo.errors import Invalid, NotFound
from crosspromo.offers import statement_files, statements
from crosspromo.offers.statements import Statement
from crosspromo.pipeline.service import local_today
from crosspromo.web.deps import ApiActor, Db, parse_uuid
from crosspromo.web.i18n import LOCALES, pick_locale

router = APIRouter(prefix="/api/v1", tags=["statements"])


def build(
    db: Session,
    actor: Actor,
    business_id: str,
    partner: str,
    start: date | None,
    end: date | None,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> Statement:
    """Resolve the business (tenancy first), the partner by slug and the period (default:
    this month so far), then build the statement."""
    me = businesses.get(db, actor, parse_uuid(business_id), need=Role.manager)
    if not partner.strip():
        raise Invalid("Name the partner by its id (slug).", field="partner")
    other = businesses.get_by_slug(db, partner.strip().lower())
    if other is None:
        raise NotFound("No such partner.")
    today = local_today(me)
    end = end or today
    start = start or end.replace(day=1)
    return statements.statement(db, actor, me.id, other.id, start, end, limit=limit, cursor=cursor)


def statement_out(found: Statement) -> dict[str, Any]:
    recip = found.reciprocity
    return {
        "business_id": str(found.business.id),
        "partner": {
            "id": str(found.partner.id),
            "slug": found.partner.slug,
            "name": found.partner.name,
        },
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "timezone": found.timezone,
        "lines": [
            {
                "date": line.on.isoformat(),
                "at": line.at.isoformat(),
                "kind": line.kind,
                "offer": line.offer_title,
                "order_minor": line.order_minor,
                "amount_minor": line.amount_minor,
                "currency": line.currency,
                "direction": line.direction,
                "staff_user_id": str(line.staff_user_id) if line.staff_user_id else None,
            }
            for line in found.lines
        ],
        "next_cursor": found.next_cursor,
        "totals": [
            {
                "currency": t.currency,
                "receivable_minor": t.receivable,
                "payable_minor": t.payable,
                "net_minor": t.net,
            }
            for t in found.totals
        ],
        "reciprocity": None
        if recip is None
        else {
            "redemptions": [
                {
                    "issuer_business_id": str(f.issuer_id),
                    "honouring_business_id": str(f.honouring_id),
                    "currency": f.currency,
                    "count": f.count,
                    "order_minor": f.order_minor,
                }
                for f in recip.flows
            ],
            "deliveries": recip.deliveries,
        },
    }


def _filename(found: Statement, ext: str) -> str:
    return (
        f"statement-{found.business.slug}-{found.partner.slug}-"
        f"{found.start.isoformat()}-{found.end.isoformat()}.{ext}"
    )


@router.get("/businesses/{business_id}/statements")
def get_statement(
    request: Request,
    business_id: str,
    actor: ApiActor,
    db: Db,
    partner: Annotated[str, Query(description="the partner's id (slug)")] = "",
    start: Annotated[date | None, Query(description="first day (default: 1st of month)")] = None,
    end: Annotated[date | None, Query(description="last day, included (default: today)")] = None,
    format: Annotated[str, Query(pattern="^(json|csv|pdf)$")] = "json",
    lang: Annotated[str | None, Query(pattern="^(en|ru)$", description="PDF labels")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Any:
    """What each side owes the other in the period and the net, per currency; CSV or PDF too.

    For barter agreements, a reciprocity balance: redemptions each way and deliveries."""
    paged = format == "json"
    found = build(
        db,
        actor,
        business_id,
        partner,
        start,
        end,
        limit=limit if paged else 0,  # the files read every line themselves
        cursor=cursor if paged else None,
    )
    if format == "csv":
        disposition = f'attachment; filename="{_filename(found, "csv")}"'
        return Response(
            statement_files.to_csv(db, found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    if format == "pdf":
        locale = lang if lang in LOCALES else pick_locale(request)
        disposition = f'attachment; filename="{_filename(found, "pdf")}"'
        return Response(
            statement_files.to_pdf(db, found, locale),
            media_type="application/pdf",
            headers={"Content-Disposition": disposition},
        )
    return statement_out(found)
