"""RFC 9457 problem+json for the API, friendly pages for people; never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from crosspromo.errors import DomainError
from crosspromo.web import i18n, validation
from crosspromo.web.deps import SignInRequired
from crosspromo.web.templating import render

log = logging.getLogger("crosspromo")
PROBLEM_BASE = "/problems/"
HTTP_KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    503: "unavailable",
}
# The stable problem types, with a sentence each, served at /problems/<kind>.
KINDS = {
    "bad-request": "The request could not be read.",
    "unauthorized": "Sign in, or send a valid API key as 'Authorization: Bearer <key>'.",
    "forbidden": "Your role does not allow this action.",
    "csrf": "The form's security token is missing or expired; reload the page.",
    "not-found": "No such item, or it belongs to another business.",
    "method-not-allowed": "This address does not accept that method.",
    "conflict": "The change clashes with the current state (a taken name, an old version).",
    "too-large": "The upload is larger than allowed.",
    "unsupported-media-type": "Send JSON or multipart form data.",
    "validation": "A field is missing or wrong; `errors` names each field and the reason.",
    "rate-limited": "Too many requests; wait and retry.",
    "import-rejected": (
        "The file was refused as a whole; `errors` lists each line and column; nothing was applied."
    ),
    "internal": "Something failed on our side; nothing you sent was applied.",
    "unavailable": "The server is busy (no free database connection); retry after Retry-After.",
    "version-superseded": "Newer terms exist; read the current version and answer that one.",
    "proposal-closed": "The proposal was declined; start a new one.",
    "already-accepted": "Your side already accepted this version.",
    "team-invitation-used": "This team invitation link has already been used; ask for a new one.",
    "team-invitation-revoked": "The owner withdrew this team invitation.",
    "team-invitation-expired": "This team invitation link has expired; ask for a new one.",
    "agreement-in-force": "An agreement stands; change it only by new terms both owners accept.",
    "no-agreement": "This needs an agreement: both owners accepting the same terms.",
    "campaign-frozen": "A running campaign's goal, dates and budget lines cannot be changed.",
    "campaign-not-ready": "The campaign lacks what the next stage needs; `missing` lists it.",
    "stage-transition": "Campaign stages follow preparation, agreed, running, results, closed.",
    "stage-changed": "Someone moved the campaign meanwhile; reload and try again.",
    "wrong-stage": "The campaign is not at the stage this action needs.",
    "print-not-ready": "The coupons are still printing; ask for the job's status until it is done.",
    "unknown-code": "No such code at this business (the same answer for any other business's).",
    "mistyped-code": "The code's check character fails: a character was mistyped.",
    "absurd-amount": "The order amount is not believable.",
    "code-used": "The code was already used as often as it may be.",
    "exhausted": "The offer's total limit is reached.",
    "customer-limit": "This customer used the offer as often as allowed.",
    "needs-customer": "The offer needs the customer's phone or e-mail.",
    "not-new-customer": "The offer is for new customers only.",
    "needs-partner-card": "The customer must show the partner's loyalty card.",
    "below-threshold": "The order is below the offer's minimum.",
    "expired": "The offer has expired.",
    "not-yet-valid": "The offer is not valid yet.",
    "wrong-day": "The offer is not valid on this day of the week.",
    "wrong-hour": "The offer is not valid at this hour.",
    "not-stackable": "The receipt already carries an offer; they do not combine.",
    "campaign-not-running": "The offer's campaign is not running.",
    "reversal-of-reversal": "A reversal cannot be reversed.",
    "reversal-window-closed": "The reversal window of the offer has passed.",
    "already-reversed": "The redemption was already reversed.",
    "idempotency-key-reused": "The Idempotency-Key was used with a different request body.",
    "invitation-used": "The invitation was already answered; open the proposal instead.",
    "codes-exhausted": "No unused codes were found for the pattern; use a longer one.",
    # Coalition loyalty (crosspromo/loyalty).
    "card-malformed": "This is not a loyalty card number (nor a phone number).",
    "card-mistyped": "The card number's check character fails: a character was mistyped.",
    "card-unknown": "No loyalty card has this number or phone.",
    "card-exists": "A card with this phone or e-mail exists in the coalition already.",
    "card-other-coalition": "The card belongs to a coalition this business is not a member of.",
    "not-member": "The business is not an active member of the coalition.",
    "member-left": "The business has left the coalition.",
    "over-balance": "The card has fewer spendable points than asked.",
    "over-share": "Points may pay only part of a receipt; `max_points` says how many.",
    "points-pending": "The points are still pending (the return period); they can be spent later.",
    "points-expired": "The points asked for have expired.",
    "refund-too-large": "The refund is larger than what is left of the purchase.",
    "not-reversible": "Expiry and debt recoveries are not reversed; they follow the ledger.",
    "order-already-recorded": "Points for this receipt were already earned or spent.",
    "loyalty-retry": "The card changed meanwhile; retry.",
    "coalition-rules-changed": (
        "The coalition's rules changed since the membership terms were sent; send terms naming "
        "the version in force."
    ),
    # Lead exchange (crosspromo/leads).
    "no-contact": "The request gives no way to reach the customer: a phone or an e-mail.",
    "phone-invalid": "The phone is not a phone number.",
    "email-invalid": "The e-mail is not an e-mail address.",
    "consent-required": "The customer must agree to be contacted by the named partners.",
    "out-of-area": "The address is outside every partner specialist's area.",
    "unknown-district": "The district is not one of the form's districts.",
    "duplicate-lead": "The same phone or e-mail asked for the same thing recently.",
    "specialist-at-capacity": "The specialist has taken as many leads today as they can.",
    "no-specialist": "No partner specialist is free for this lead now.",
    "lead-moved-on": "The lead moved on to another specialist after the deadline.",
    "lead-taken": "Another specialist accepted the lead first.",
    "lead-status": "The lead's status does not allow this step.",
    "not-charged": "The lead was not charged, so there is nothing to dispute.",
    "dispute-exists": "The lead's charge is already disputed.",
    "dispute-window-closed": "The dispute window of the lead's charge has passed.",
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/healthz":
        return True
    return "application/json" in request.headers.get("accept", "") and (
        "text/html" not in request.headers.get("accept", "")
    )


def problem(
    request: Request,
    *,
    kind: str,
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    labelled: bool = False,
) -> Response:
    """The answer to a refusal; `labelled` errors are whole sentences naming their field."""
    if wants_json(request):
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + kind,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.url.path,
        }
        if errors:
            body["errors"] = errors
        for key, value in (extensions or {}).items():
            body.setdefault(key, value)
        return JSONResponse(
            body, status_code=status, media_type="application/problem+json", headers=headers
        )
    page = render(
        request,
        "error.html",
        status_code=status,
        code=status,
        title=title,
        detail=detail,
        errors=errors or [],
        labelled=labelled,
    )
    page.headers.update(headers or {})
    return page


# PostgreSQL SQLSTATEs that mean "busy, try again": too many connections, out of resources,
# a lock or statement timeout, a serialization failure, a deadlock, the server shutting down.
TRANSIENT_SQLSTATES = {"53300", "53000", "55P03", "57014", "40001", "40P01", "57P03"}
TRANSIENT_SQLITE = ("database is locked", "database table is locked")


def transient(exc: OperationalError) -> bool:
    """Whether a database error is load, not a bug: answered with 503, not 500."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    return any(text in str(exc.orig) for text in TRANSIENT_SQLITE)


def busy(request: Request) -> Response:
    """503 with Retry-After: the database is saturated, the request changed nothing."""
    seconds = getattr(request.app.state.settings, "retry_after_seconds", 2)
    return problem(
        request,
        kind="unavailable",
        status=503,
        title="Service unavailable",
        detail="The server is busy; nothing was changed. Retry after a moment.",
        headers={"Retry-After": str(seconds)},
    )


@contextmanager
def in_language(request: Request) -> Iterator[None]:
    """Messages built inside speak the request's language (cookie, then Accept-Language)."""
    token = i18n.current_locale.set(i18n.pick_locale(request))
    try:
        yield
    finally:
        i18n.current_locale.reset(token)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        with in_language(request):
            translated = validation.from_domain(exc) if exc.kind == "validation" else []
            if translated and not exc.errors:
                translated = []
            detail = translated[0].message if translated else exc.detail
        errors: list[dict[str, Any]] = [
            {"field": e.field, "message": e.message, **({"line": e.line} if e.line else {})}
            for e in (translated or exc.errors)
        ]
        retry_after = (exc.extensions or {}).get("retry_after")
        return problem(
            request,
            kind=exc.kind,
            status=exc.status,
            title=exc.title,
            detail=detail,
            errors=errors,
            extensions=exc.extensions,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
            labelled=bool(translated),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        with in_language(request):
            found = validation.from_pydantic(exc.errors())
        errors = [{"field": e.field, "message": e.message} for e in found]
        return problem(
            request,
            kind="validation",
            status=422,
            title="Invalid input",
            detail=errors[0]["message"] if errors else KINDS["validation"],
            errors=errors,
            labelled=True,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        kind = HTTP_KINDS.get(exc.status_code, "bad-request")
        detail = exc.detail if isinstance(exc.detail, str) else KINDS.get(kind, "")
        if exc.status_code == 404:
            detail = "There is nothing at this address."
        return problem(
            request,
            kind=kind,
            status=exc.status_code,
            title=kind.replace("-", " ").capitalize(),
            detail=detail,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> Response:
        log.warning("no free database connection on %s %s", request.method, request.url.path)
        return busy(request)

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        if transient(exc):
            log.warning("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
            return busy(request)
        return await crash(request, exc)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            request,
            kind="internal",
            status=500,
            title="Internal error",
            detail="Something failed on our side; nothing was changed. Please try again.",
        )
