"""Blank files to fill in: the columns of an import kind, in the owner's language.

Russian headers are the words a 1C or Excel export uses, so the suggested mapping reads a
filled-in template back without the owner choosing anything.
"""

from __future__ import annotations

import io

from starlette.responses import Response

from crosspromo import spreadsheets

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADERS: dict[str, dict[str, dict[str, str]]] = {
    "transactions": {
        "en": {
            "id": "id",
            "at": "at",
            "amount": "amount",
            "customer": "customer",
            "items": "items",
        },
        "ru": {
            "id": "Номер чека",
            "at": "Дата и время",
            "amount": "Сумма",
            "customer": "Покупатель",
            "items": "Товары",
        },
    },
    "customers": {
        "en": {
            "customer": "customer",
            "name": "name",
            "phone": "phone",
            "email": "email",
            "marketing_consent": "marketing_consent",
            "first_seen": "first_seen",
        },
        "ru": {
            "customer": "Карта",
            "name": "ФИО",
            "phone": "Телефон",
            "email": "Эл. почта",
            "marketing_consent": "Согласие на рассылку",
            "first_seen": "Дата регистрации",
        },
    },
}
KINDS = tuple(HEADERS)


def headers(kind: str, language: str) -> list[str]:
    """The template's header row for `kind` ('transactions', 'customers') in `language`."""
    by_language = HEADERS[kind]
    return list(by_language.get(language, by_language["en"]).values())


def filename(kind: str, fmt: str) -> str:
    return f"{kind}-template.{fmt}"


def render(kind: str, language: str, fmt: str) -> bytes:
    """The blank file: CSV (';' and a BOM in Russian, as Russian Excel reads it) or XLSX."""
    names = headers(kind, language)
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(kind)
        sheet.append(names)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO()
    russian = language == "ru"
    spreadsheets.Writer(text, delimiter=";" if russian else ",", lineterminator="\r\n").writerow(
        names
    )
    return text.getvalue().encode("utf-8-sig" if russian else "utf-8")


def response(kind: str, language: str, fmt: str) -> Response:
    """The blank file as a download."""
    return Response(
        render(kind, language, fmt),
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename(kind, fmt)}"'},
    )
