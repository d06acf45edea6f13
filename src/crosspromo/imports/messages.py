"""The import's reasons in the reader's language.

The service writes each reason in English with the values inside (the API and the CLI show
them as they are); a page reads them back through these patterns into catalogue messages,
as web.i18n.message does for form fields.
"""

from __future__ import annotations

import re
from typing import Any

from crosspromo.web import i18n

N_ = i18n.N_
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (r"is empty", N_("is empty")),
        (r"required column is missing", N_("required column is missing")),
        (
            r"unknown customer (?P<v>.+); import customers first",
            N_("unknown customer %(v)s; import the customers first"),
        ),
        (r"(?P<v>.+) repeats line (?P<n>\d+)", N_("%(v)s repeats line %(n)s")),
        (
            r"(?P<v>.+) is not an amount.*",
            N_("%(v)s is not an amount (write 1350,50 or 1 350,50 ₽)"),
        ),
        (
            r"(?P<v>.+) is not a date \(use .*\)",
            N_("%(v)s is not a date (write 20.11.2026 or 20.11.2026 10:15)"),
        ),
        (r"(?P<v>.+) is not a real date or time", N_("%(v)s is not a real date or time")),
        (
            r"(?P<v>.+): the year is outside (?P<a>\d+)\.\.(?P<b>\d+)",
            N_("%(v)s: the year is outside %(a)s–%(b)s"),
        ),
        (r"(?P<v>.+) is outside 1990\.\.2100", N_("%(v)s: the year is outside 1990–2100")),
        (
            r"(?P<v>.+) is in (?P<a>[A-Z]{3}), not (?P<b>[A-Z]{3})",
            N_("%(v)s is in %(a)s, not %(b)s"),
        ),
        (
            r"(?P<v>.+) differs from the business's currency (?P<c>[A-Z]{3})",
            N_("currency %(v)s differs from the business's currency %(c)s"),
        ),
        (r"unknown business (?P<v>.+)", N_("unknown business %(v)s")),
        (
            r"(?P<v>.+) is not the business being imported \((?P<b>.+)\)",
            N_("%(v)s is not the business being imported (%(b)s)"),
        ),
        (r"longer than (?P<n>\d+) characters", N_("longer than %(n)s characters")),
        (
            r"(?P<f>\d+) values but the header has (?P<w>\d+) columns",
            N_("%(f)s values but the header has %(w)s columns"),
        ),
        (r"give an email or a phone", N_("give an e-mail or a phone")),
        (
            r"the file needs an email or a phone column",
            N_("the file needs an e-mail or a phone column"),
        ),
        (r"(?P<v>.+) is not yes, no or a date", N_("%(v)s is not yes, no or a date")),
        (r"must not be negative", N_("must not be negative")),
        (r".*must not be negative", N_("must not be negative")),
        (r"(?P<v>.+) is implausibly large", N_("%(v)s is implausibly large")),
        (r"(?P<v>.+) has a time; give only the date", N_("%(v)s has a time; give only the date")),
        (
            r"(?P<v>.+) could be day/month or month/day;.*",
            N_("%(v)s could be day/month or month/day; choose the date format on the upload page"),
        ),
        (
            r"(?P<v>.+) reads only as MM/DD/YYYY;.*",
            N_("%(v)s reads only as month/day/year; choose that date format on the upload page"),
        ),
        (r"the file is empty", N_("the file is empty")),
        (r"the first row has no column names", N_("the first row has no column names")),
        (
            r"line (?P<n>\d+) is not valid (?P<e>\S+) text;.*",
            N_(
                "line %(n)s is not %(e)s text; "
                "save the whole file in one encoding, best “CSV UTF-8”"
            ),
        ),
        (
            r"the file is not text .*",
            N_(
                "the file is not a CSV or Excel file; "
                "save it from Excel as “CSV UTF-8” or “Excel workbook (.xlsx)”"
            ),
        ),
        (r"ignored columns: (?P<v>.+)", N_("columns not imported: %(v)s")),
        (
            r"columns (?P<a>.+) and (?P<b>.+) are both mapped to \w+",
            N_("columns %(a)s and %(b)s are given the same field; choose one"),
        ),
        (r"phone is empty", N_("phone is empty")),
        (r"not a phone number: (?P<v>.+)", N_("not a valid phone number: %(v)s")),
    )
)


def reason(text: str) -> str:
    """One reason (or warning) in the current language; English when no pattern knows it."""
    for pattern, msgid in _PATTERNS:
        found = pattern.fullmatch(text.strip())
        if found:
            return i18n.gettext(msgid, **found.groupdict())
    return i18n.message(text)


def line(error: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """'Line 3, column “Сумма”: …' from one of a summary's error_details."""
    column = str(error.get("header") or "")
    field = str(error.get("column") or "*")
    if not column and field != "*":
        column = i18n.gettext(labels[field]) if labels and field in labels else field
    why = reason(str(error.get("reason", "")))
    if field == "*" and not column:
        return i18n.gettext("Line %(n)s: %(reason)s", n=error.get("line"), reason=why)
    return i18n.gettext(
        "Line %(n)s, column “%(column)s”: %(reason)s",
        n=error.get("line"),
        column=column,
        reason=why,
    )
