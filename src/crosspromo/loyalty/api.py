"""JSON API of coalition loyalty: coalitions and members, cards, earn, spend, reversal, clearing."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.auth import CashierBusiness
from crosspromo.businesses import service as businesses
from crosspromo.errors import Invalid
from crosspromo.loyalty import clearing, flows, service, statement_files
from crosspromo.loyalty.auth import (
    BusinessTransaction,
    CashierCoalition,
    ManagerCoalition,
    MemberCard,
    OwnerCoalition,
)
from crosspromo.loyalty.models import Coalition
from crosspromo.loyalty.schemas import (
    CardIn,
    CardSheetIn,
    CoalitionIn,
    EarnIn,
    InviteIn,
    JoinIn,
    MemberIn,
    ReserveIn,
    ReversalIn,
    RulesIn,
    SpendIn,
)
from crosspromo.web.deps import ApiActor, Db, parse_uuid

router = APIRouter(prefix="/api/v1/loyalty", tags=["coalition loyalty"])
IdempotencyKey = Annotated[
    str | None, Header(description="retry safely: same key and body, same answer")
]


def coalition_out(db: Db, coalition: Coalition) -> dict[str, Any]:
    members = service.members(db, coalition.id)
    return {
        "id": str(coalition.id),
        "name": coalition.name,
        "currency": coalition.currency,
        "timezone": coalition.timezone,
        "point_value_minor": coalition.point_value_minor,
        "max_share_bp": coalition.max_share_bp,
        "pending_days": coalition.pending_days,
        "expiry_months": coalition.expiry_months,
        "rules_version": coalition.rules_version,
        "members": [
            {
                "business_id": str(m.business_id),
                "status": m.status.value,
                "earn_milli": m.earn_milli,
                "welcome_points": m.welcome_points,
                "multipliers": m.multipliers,
                "accepted_version": m.accepted_version,
            }
            for m in members
        ],
    }


def _write(
    request: Request,
    db: Db,
    scope: str,
    key: str | None,
    body: dict[str, Any],
    run: Any,
    action: str = "",
) -> JSONResponse:
    business_id = body.get("business_id")
    attempt = flows.Attempt(
        action=action,
        card=str(body.get("card", body.get("phone", "")))[:64],
        business_id=uuid.UUID(business_id) if business_id else None,
        address=request.client.host if request.client else "",
    )
    status, answer, replayed = flows.idempotent(
        db,
        request.app.state.sessions,
        scope=scope,
        key=key,
        request=body,
        instance=request.url.path,
        run=run,
        attempt=attempt if action else None,
    )
    media = "application/problem+json" if status >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, status_code=status, media_type=media, headers=headers)


def _till_write(
    request: Request,
    db: Db,
    actor: Actor,
    key: str | None,
    body: Any,
    flow: Callable[[Session, Actor, Any], dict[str, Any]],
    action: str,
) -> JSONResponse:
    """A till write (enrol, earn, spend): the caller's idempotency scope, audited refusals."""
    payload = body.model_dump(mode="json")
    return _write(request, db, actor.caller, key, payload, lambda: flow(db, actor, body), action)


@router.post("/cards", status_code=201)
def enrol(
    request: Request, actor: ApiActor, db: Db, body: CardIn, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Enrol a customer with consent (phone or e-mail); answers the card number and its link."""
    return _till_write(request, db, actor, idempotency_key, body, flows.enrol, "loyalty_enrol")


@router.post("/earn", status_code=201)
def earn(
    request: Request, actor: ApiActor, db: Db, body: EarnIn, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Earn points on a receipt: `transaction_id`, `points`, `balance` (spendable now)."""
    return _till_write(request, db, actor, idempotency_key, body, flows.earn, "loyalty_earn")


@router.post("/spend", status_code=201)
def spend(
    request: Request, actor: ApiActor, db: Db, body: SpendIn, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Pay part of a receipt with points (oldest first); omit `points` to spend the most allowed."""
    return _till_write(request, db, actor, idempotency_key, body, flows.spend, "loyalty_spend")


@router.post("/transactions/{transaction_id}/reversal", status_code=201)
def reversal(
    original: BusinessTransaction,
    request: Request,
    actor: ApiActor,
    db: Db,
    body: ReversalIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Refund an earn (all, or `order_minor` of it) or reverse a spend; never a reversal."""
    data = body or ReversalIn()
    tid = original.id
    return _write(
        request,
        db,
        actor.caller,
        idempotency_key,
        data.model_dump(mode="json"),
        lambda: flows.reverse(db, actor, tid, data),
        "loyalty_reverse",
    )


@router.get("/cards/{card}/balance")
def balance(found: MemberCard, db: Db) -> dict[str, Any]:
    """Spendable and pending points, debt, and each lot with its issuer and expiry.

    `business_id` (query) is the member asking: only cards of its coalitions are found.
    """
    return flows.balance_out(db, found)


@router.get(
    "/cards/{card}/print",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "front and back"}},
)
def print_card(
    found: MemberCard,
    db: Db,
    lang: Annotated[str | None, Query(pattern="^(en|ru)$")] = None,
) -> Response:
    """The card as a CR80 plastic card (85.60 x 53.98 mm), front and back, as a PDF.

    `business_id` (query) is the member asking: only cards of its coalitions are found.
    """
    return Response(
        flows.card_pdf(db, found, lang),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="card-{found.number}.pdf"'},
    )


@router.post(
    "/coalitions/{coalition_id}/cards/sheet",
    status_code=201,
    response_class=Response,
    responses={201: {"content": {"application/pdf": {}, "text/csv": {}, "application/json": {}}}},
)
def print_cards(
    access: ManagerCoalition,
    request: Request,
    actor: ApiActor,
    db: Db,
    body: CardSheetIn,
    format: Annotated[str, Query(pattern="^(pdf|csv|json)$")] = "pdf",
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A4 sheets of CR80 cards with crop marks: `count` new blank cards (activated at a till
    on enrolment) or the given `cards`; CSV or JSON lists the numbers for a card printer."""
    access.member(body.business_id)  # a manager of a member business, else 404 or 403
    cid = access.coalition.id
    status, printed, _ = flows.idempotent(
        db,
        request.app.state.sessions,
        scope=actor.caller,
        key=idempotency_key,
        request=body.model_dump(mode="json"),
        instance=request.url.path,
        run=lambda: flows.print_cards(db, actor, cid, body),
    )
    if status >= 400:  # a refusal remembered under this key
        return JSONResponse(printed, status_code=status, media_type="application/problem+json")
    if format == "json":
        return JSONResponse(printed, status_code=201)
    name = f"cards-{len(printed['cards'])}"
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["card", "qr", "blank"])
        for c in printed["cards"]:
            writer.writerow([c["card"], c["card"], "yes" if c["blank"] else "no"])
        return Response(
            buffer.getvalue(),
            status_code=201,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        flows.cards_pdf(db, printed),
        status_code=201,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.post("/coalitions", status_code=201)
def create_coalition(actor: ApiActor, db: Db, body: CoalitionIn) -> dict[str, Any]:
    """Found a coalition; the founding business is its first member."""
    founder = businesses.get(db, actor, body.business_id, need=Role.owner)
    coalition = service.create_coalition(
        db,
        founder=founder,
        name=body.name,
        currency=body.currency,
        point_value_minor=body.point_value_minor,
        max_share_bp=body.max_share_bp,
        pending_days=body.pending_days,
        expiry_months=body.expiry_months,
        earn_milli=body.earn_milli,
        welcome_points=body.welcome_points,
        multipliers=body.multipliers,
        timezone=body.timezone,
    )
    return coalition_out(db, coalition)


@router.get("/coalitions")
def list_coalitions(business: CashierBusiness, db: Db) -> dict[str, Any]:
    """The coalitions the business (`business_id` query parameter) is in, or invited to."""
    return {"items": [coalition_out(db, c) for c in service.coalitions_of(db, business.id)]}


@router.get("/coalitions/{coalition_id}")
def get_coalition(
    access: CashierCoalition, db: Db, business_id: Annotated[str, Query()]
) -> dict[str, Any]:
    access.member(parse_uuid(business_id))
    return coalition_out(db, access.coalition)


@router.post("/coalitions/{coalition_id}/invitations", status_code=201)
def invite(access: OwnerCoalition, db: Db, body: InviteIn) -> dict[str, Any]:
    """An owner of a member invites another business; its owner joins.

    Joining under an agreement goes through a proposal with a coalition option instead.
    """
    by = access.member(body.business_id)
    member = service.invite(
        db, coalition=access.coalition, by=by, business_id=body.invitee_business_id
    )
    return {"business_id": str(member.business_id), "status": member.status.value}


@router.post("/coalitions/{coalition_id}/join")
def join(access: OwnerCoalition, db: Db, body: JoinIn) -> dict[str, Any]:
    """Accept the invitation and the current rules, with this member's earn rules."""
    service.join(
        db,
        coalition=access.coalition,
        business=access.member(body.business_id),
        earn_milli=body.earn_milli,
        welcome_points=body.welcome_points,
        multipliers=body.multipliers,
    )
    return coalition_out(db, access.coalition)


@router.post("/coalitions/{coalition_id}/leave")
def leave(access: OwnerCoalition, db: Db, body: MemberIn) -> dict[str, Any]:
    """The member stops earning and accepting points; its points stay spendable elsewhere."""
    service.leave(db, coalition=access.coalition, business=access.member(body.business_id))
    return coalition_out(db, access.coalition)


@router.post("/coalitions/{coalition_id}/rules", status_code=201)
def propose_rules(access: OwnerCoalition, db: Db, body: RulesIn) -> dict[str, Any]:
    """A new version of the coalition's rules; in force when every member accepted it."""
    business, coalition = access.member(body.business_id), access.coalition
    rules = service.current_rules(db, coalition)
    rules.point_value_minor = body.point_value_minor
    rules.max_share_bp = body.max_share_bp
    rules.pending_days = body.pending_days
    rules.expiry_months = body.expiry_months
    version = service.propose_rules(db, coalition=coalition, by=business, rules=rules)
    return {"version": version.version, "in_force": version.effective_at is not None}


@router.post("/coalitions/{coalition_id}/rules/{version}/acceptance")
def accept_rules(
    access: OwnerCoalition,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    db: Db,
    body: MemberIn,
) -> dict[str, Any]:
    """The member's owner accepts a proposed version of the rules."""
    business, coalition = access.member(body.business_id), access.coalition
    applied = service.accept_rules(db, coalition=coalition, business=business, version=version)
    return {"version": version, "in_force": applied or coalition.rules_version >= version}


@router.get("/coalitions/{coalition_id}/clearing")
def clearing_statement(
    access: ManagerCoalition,
    db: Db,
    business_id: Annotated[str, Query()],
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    format: Annotated[str, Query(pattern="^(json|csv|pdf)$")] = "json",
    lang: Annotated[str, Query(pattern="^(en|ru)$")] = "en",
) -> Any:
    """Per member: issued (owes), accepted (owed), net; the netted transfers. CSV or PDF too.

    `from` and `to` are days in the coalition's zone (`timezone`), both included.
    """
    access.member(parse_uuid(business_id))
    coalition = access.coalition
    if end < start or (end - start).days > 366:
        raise Invalid("The period takes 1 to 367 days.", field="to")
    found = clearing.statement(db, coalition, *clearing.days(coalition, start, end))
    name = f"clearing-{start.isoformat()}-{end.isoformat()}"
    if format == "pdf":
        return Response(
            statement_files.to_pdf(found, coalition.name, lang),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    statement = found.as_dict()
    if format == "csv":
        buffer = io.StringIO()
        fields = ["slug", "name", "issued_minor", "accepted_minor", "net_minor"]
        writer = csv.DictWriter(buffer, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(statement["members"])  # type: ignore[arg-type]
        return Response(
            buffer.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return statement


@router.get("/coalitions/{coalition_id}/positions")
def positions(
    access: ManagerCoalition, db: Db, business_id: Annotated[str, Query()]
) -> dict[str, Any]:
    """Each member's outstanding liability, reserve and coverage, expected breakage."""
    access.member(parse_uuid(business_id))
    coalition = access.coalition
    return {
        "currency": coalition.currency,
        "members": [
            {
                "business_id": str(p.business_id),
                "slug": p.slug,
                "liability_points": p.liability_points,
                "liability_minor": p.liability_minor,
                "reserve_minor": p.reserve_minor,
                "coverage": p.coverage,
                "breakage_rate": p.breakage_rate,
                "expected_breakage_points": p.expected_breakage_points,
            }
            for p in clearing.positions(db, coalition)
        ],
    }


@router.post("/coalitions/{coalition_id}/reserve")
def set_reserve(access: OwnerCoalition, db: Db, body: ReserveIn) -> dict[str, Any]:
    """The owner sets the member's prefunded reserve against its points liability."""
    member = service.set_reserve(
        db,
        coalition=access.coalition,
        business=access.member(body.business_id),
        reserve_minor=body.reserve_minor,
    )
    return {"business_id": str(member.business_id), "reserve_minor": member.reserve_minor}
