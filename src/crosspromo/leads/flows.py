"""The public form's submission, shared by the page, its snippet and the API: the rate limit
per client address (counted even when the request is then refused), then the rules."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.orm import Session
from starlette.requests import Request

from crosspromo.leads import service
from crosspromo.leads.models import Lead
from crosspromo.leads.schemas import RequestIn
from crosspromo.offers.throttle import hit


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def submit(
    request: Request, db: Session, form_id: uuid.UUID, data: RequestIn
) -> tuple[Lead | None, str]:
    """Throttle, then the request: the lead (None for a bot) and the reference shown."""
    form = service.public_form(db, form_id)
    settings = request.app.state.settings
    hit(
        settings.rate_limit_storage,
        settings.lead_form_rate_limit_per_address,
        "lead-form",
        address(request),
    )
    lead = service.submit(db, form, data, secret_key=request.app.state.secret_key)
    # A bot sees the same answer as a person, with a reference that leads nowhere.
    reference = str(lead.id)[:8].upper() if lead is not None else secrets.token_hex(4).upper()
    return lead, reference
