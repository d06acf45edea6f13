"""What every HTML form handler needs: validation messages and typed money amounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from crosspromo import locale_input
from crosspromo.errors import DomainError, Invalid
from crosspromo.web.i18n import NO_CURRENCY
from crosspromo.web.validation import FormErrors, form_errors


async def form_data(request: Request) -> FormData:
    """The posted form, read on the event loop so the handler itself can be a plain `def`.

    Handlers that touch the database run in the thread pool; only this read is async.
    """
    return await request.form()


PostedForm = Annotated[FormData, Depends(form_data)]


def errors_of(exc: ValidationError | DomainError) -> FormErrors:
    """The refusal as sentences for the top of a form and each field's message (validation.py)."""
    return form_errors(exc)


def minor_units(text: str, currency: str, field: str = "amount") -> int | None:
    """An amount as typed ("1 234,50", "3 000,50 ₽") as integer minor units; blank is None."""
    if not text.strip():
        return None
    try:
        return locale_input.parse_money(text, currency.strip().upper() or NO_CURRENCY)
    except locale_input.InputError as exc:
        raise Invalid(str(exc), field=field) from None
