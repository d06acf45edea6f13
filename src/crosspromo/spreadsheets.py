"""CSV that is safe to open in a spreadsheet: cells cannot become formulas (OWASP rule).

Exports carry text that another business wrote (offer titles, labels, task titles); a cell
starting with = + - @ or a tab or carriage return is run as a formula by Excel, LibreOffice
and Google Sheets (`=HYPERLINK(...)` leaks data or lures a click). Such text cells get a
leading apostrophe, which the spreadsheet shows as text. Numbers stay numbers: a negative
amount is data, not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    _DictWriter = csv.DictWriter[str]
else:  # not subscriptable at run time before Python 3.12
    _DictWriter = csv.DictWriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would read as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Writer:
    """`csv.writer` whose every row goes through `cell`: the one way exports write CSV."""

    def __init__(self, target: Any, **options: Any) -> None:
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class DictWriter(_DictWriter):
    """`csv.DictWriter` whose every value goes through `cell`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
