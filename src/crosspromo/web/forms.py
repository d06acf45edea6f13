"""What every HTML form handler needs: validation messages and typed money amounts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from babel.numbers import get_currency_precision
from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from crosspromo.errors import Invalid
from crosspromo.web.i18n import NO_CURRENCY


async def form_data(request: Request) -> FormData:
    """The posted form, read on the event loop so the handler itself can be a plain `def`.

    Handlers that touch the database run in the thread pool; only this read is async.
    """
    return await request.form()


PostedForm = Annotated[FormData, Depends(form_data)]


def errors_of(exc: ValidationError) -> list[str]:
    """Pydantic's errors as "field: reason" lines for the top of a form."""
    return [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    ]


def minor_units(text: str, currency: str, field: str = "amount") -> int | None:
    """An amount typed in major units ("1 234,50") as integer minor units; blank is None."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not cleaned:
        return None
    try:
        precision = get_currency_precision(currency.upper() or NO_CURRENCY)
        value = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        raise Invalid(f"Not an amount: {text}", field=field) from None
    if value < 0:
        raise Invalid("The amount cannot be negative.", field=field)
    return int((value * 10**precision).to_integral_value())
