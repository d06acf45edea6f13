"""One mapping from validation errors to sentences people read, naming the field by its label.

Pydantic's errors (by their stable `type`) and our own `Invalid` errors become
"Label: reason" in the request's language, for the API's problem+json `errors` and for the
message next to a form's field alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

from markupsafe import Markup, escape
from pydantic import ValidationError

from crosspromo.errors import DomainError, FieldError
from crosspromo.web.i18n import N_, current_locale, gettext, message

# Field names (the last part of a location) and the label people see on the form.
LABELS = {
    "title": N_("Title"),
    "name": N_("Name"),
    "message": N_("Message"),
    "to": N_("To"),
    "to_business": N_("To"),
    "business": N_("Partner"),
    "mechanic": N_("Mechanic"),
    "starts_on": N_("Starts"),
    "ends_on": N_("Ends"),
    "payment_model": N_("Payment model"),
    "payment_amount": N_("Amount"),
    "payment_minor": N_("Amount"),
    "payment_percent": N_("Percent"),
    "currency": N_("Currency"),
    "goal_business_id": N_("Whose figures"),
    "goal_metric": N_("Metric"),
    "goal_kind": N_("Kind"),
    "goal_target": N_("Target"),
    "goal_deadline": N_("Goal deadline"),
    "item": N_("Item"),
    "description": N_("What"),
    "amount": N_("Amount"),
    "amount_minor": N_("Amount"),
    "hours": N_("Staff hours"),
    "hourly_cost": N_("Hourly cost"),
    "hourly_cost_minor": N_("Hourly cost"),
    "percent": N_("Percent"),
    "benefit": N_("Benefit"),
    "min_order": N_("Minimum order"),
    "min_order_minor": N_("Minimum order"),
    "total_limit": N_("Total limit"),
    "per_customer_limit": N_("Per customer"),
    "valid_from": N_("Valid from"),
    "valid_until": N_("Valid until"),
    "count": N_("How many"),
    "due_on": N_("Due"),
    "category": N_("Category"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "password": N_("Password"),
    "role": N_("Role"),
    "address": N_("Address"),
    "timezone": N_("Time zone"),
}

# Pydantic error types -> the reason, with %(n)s taken from the error's context.
REASONS = {
    "missing": N_("fill this in"),
    "decimal_parsing": N_("enter a number, such as 10,5"),
    "decimal_type": N_("enter a number, such as 10,5"),
    "float_parsing": N_("enter a number, such as 10,5"),
    "float_type": N_("enter a number, such as 10,5"),
    "int_parsing": N_("enter a whole number"),
    "int_type": N_("enter a whole number"),
    "int_from_float": N_("enter a whole number"),
    "greater_than_equal": N_("must be at least %(n)s"),
    "greater_than": N_("must be more than %(n)s"),
    "less_than_equal": N_("must be at most %(n)s"),
    "less_than": N_("must be less than %(n)s"),
    "decimal_max_places": N_("at most %(n)s digits after the decimal comma"),
    "decimal_max_digits": N_("too many digits"),
    "decimal_whole_digits": N_("too many digits"),
    "string_too_long": N_("at most %(n)s characters"),
    "string_too_short": N_("at least %(n)s characters"),
    "too_long": N_("at most %(n)s items"),
    "date_parsing": N_("enter a date such as 20.11.2026"),
    "date_from_datetime_parsing": N_("enter a date such as 20.11.2026"),
    "date_from_datetime_inexact": N_("enter a date such as 20.11.2026"),
    "date_type": N_("enter a date such as 20.11.2026"),
    "datetime_parsing": N_("enter a date and time such as 20.11.2026 10:15"),
    "uuid_parsing": N_("choose one from the list"),
    "uuid_type": N_("choose one from the list"),
    "enum": N_("choose one of the options"),
    "literal_error": N_("choose one of the options"),
    "bool_parsing": N_("choose yes or no"),
    "extra_forbidden": N_("is not expected here"),
}
_BOUND = {
    "greater_than_equal": "ge",
    "greater_than": "gt",
    "less_than_equal": "le",
    "less_than": "lt",
    "decimal_max_places": "decimal_places",
    "string_too_long": "max_length",
    "string_too_short": "min_length",
    "too_long": "max_length",
}
# A model-level rule names its field in the error's context (crosspromo.fields.wrong).
FIELD_RULE = "field_rule"
_CONTAINERS = ("body", "query", "path", "header", "form", "cookie")


def field_of(loc: Iterable[Any]) -> str:
    """A pydantic location as a dotted field path ("options.0.payment_percent")."""
    return ".".join(str(p) for p in loc if p not in _CONTAINERS)


def label(field: str) -> str:
    """The label of a dotted field path, in the current language ("" for the whole body)."""
    names = [p for p in field.split(".") if p and not p.isdigit()]
    if not names:
        return ""
    name = names[-1]
    if name in LABELS:
        return gettext(LABELS[name])
    return name.removesuffix("_minor").replace("_", " ").capitalize()


def sentence(field: str, reason: str) -> str:
    """ "Label: reason", or the reason alone when the field has no label."""
    name = label(field)
    return gettext("%(field)s: %(reason)s", field=name, reason=reason) if name else reason


def _reason(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "string_too_short" and context.get("min_length") == 1:
        kind = "missing"
    if kind in REASONS:
        return gettext(REASONS[kind], n=context.get(_BOUND.get(kind, ""), ""))
    return message(str(error.get("msg", "")).removeprefix("Value error, "))


def from_pydantic(errors: Sequence[Mapping[str, Any]]) -> list[FieldError]:
    """Pydantic's errors as field errors whose messages are sentences in the current language."""
    found = []
    for error in errors:
        field = field_of(error.get("loc", ()))
        if error.get("type") == FIELD_RULE:
            field = ".".join(p for p in (field, str(error["ctx"]["field"])) if p)
        found.append(FieldError(field or "body", sentence(field, _reason(error))))
    return found


def from_domain(exc: DomainError) -> list[FieldError]:
    """A domain error's field errors, translated; one without fields is its detail."""
    if not exc.errors:
        return [FieldError("", message(exc.detail))]
    return [FieldError(e.field, sentence(e.field, message(e.message)), e.line) for e in exc.errors]


class FormErrors(Sequence[str]):
    """The sentences for the top of a form, and `fields`: each field's own message.

    Built in the handler, read while the page renders: the sentences are made on reading, in
    the page's language (which the page decides, from the user's choice)."""

    def __init__(self, build: Callable[[], list[FieldError]]) -> None:
        self._build = build
        self._made: dict[str, list[FieldError]] = {}

    def _errors(self) -> list[FieldError]:
        locale = current_locale.get()
        if locale not in self._made:
            self._made[locale] = self._build()
        return self._made[locale]

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        messages = [e.message for e in self._errors()]
        return messages[index]

    def __len__(self) -> int:
        return len(self._errors())

    @property
    def fields(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for e in self._errors():
            found.setdefault(e.field, e.message)
            found.setdefault(e.field.rsplit(".", 1)[-1], e.message)
        return found


def form_errors(exc: ValidationError | DomainError) -> FormErrors:
    """What a form shows after a refusal: a sentence per error, and each next to its field."""
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        return FormErrors(lambda: from_pydantic(errors))
    return FormErrors(lambda: from_domain(exc))


def field_error(errors: Any, *names: str) -> Markup:
    """The message of the first of `names` at fault, for right under its field (a template
    global); nothing when the field is fine."""
    fields = getattr(errors, "fields", {})
    for name in [*names, *(n.rsplit(".", 1)[-1] for n in names)]:
        if name in fields:
            return Markup('<small class="field-error" role="alert">%s</small>') % escape(
                fields[name]
            )
    return Markup("")
