"""Which column of an owner's file holds which of our fields.

Headers are matched by a key that ignores case, spaces and punctuation (`Эл. почта`,
`E-mail` and `email` are one key), against synonyms in English, Russian and the column names
of 1C and Excel exports; a near miss (a typo) is found with difflib. The owner may change the
suggestion; what they chose is remembered per business and file shape (the set of header
keys), and offered the next time a file of that shape arrives.
"""

from __future__ import annotations

import difflib
import hashlib
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.errors import Invalid
from crosspromo.imports.models import ImportMapping

IGNORE = ""  # a header mapped to this is not read
NEAR_MISS = 0.88  # difflib ratio above which a header is taken as a typo of a synonym

_BUSINESS = ("business", "business id", "бизнес", "компания", "организация")
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "transactions": {
        "business": _BUSINESS,
        "id": (
            "id",
            "receipt",
            "receipt id",
            "receipt number",
            "check",
            "check number",
            "order",
            "order id",
            "order number",
            "transaction id",
            "номер чека",
            "чек",
            "номер",
            "номер документа",
            "документ",
            "номер заказа",
            "заказ",
            "id чека",
        ),
        "at": (
            "at",
            "date",
            "datetime",
            "date time",
            "time",
            "occurred at",
            "timestamp",
            "created at",
            "дата",
            "дата и время",
            "дата время",
            "время",
            "дата чека",
            "дата продажи",
            "дата документа",
            "период",
        ),
        "amount": (
            "amount",
            "total",
            "sum",
            "amount paid",
            "сумма",
            "сумма чека",
            "итого",
            "итог",
            "к оплате",
            "сумма документа",
            "сумма продажи",
            "выручка",
        ),
        "customer": (
            "customer",
            "customer id",
            "client",
            "client id",
            "card",
            "card number",
            "loyalty card",
            "покупатель",
            "клиент",
            "карта",
            "номер карты",
            "дисконтная карта",
            "карта клиента",
            "контрагент",
        ),
        "currency": ("currency", "валюта"),
        "items": (
            "items",
            "products",
            "goods",
            "товары",
            "товар",
            "номенклатура",
            "позиции",
            "состав",
            "состав чека",
        ),
    },
    "customers": {
        "business": _BUSINESS,
        "customer": (
            "customer",
            "customer id",
            "id",
            "client id",
            "card",
            "card number",
            "карта",
            "номер карты",
            "дисконтная карта",
            "код",
            "код клиента",
            "код покупателя",
            "идентификатор",
        ),
        "name": (
            "name",
            "full name",
            "customer name",
            "имя",
            "фио",
            "клиент",
            "покупатель",
            "наименование",
            "контрагент",
        ),
        "email": (
            "email",
            "e mail",
            "mail",
            "email address",
            "эл почта",
            "электронная почта",
            "почта",
            "адрес электронной почты",
        ),
        "phone": (
            "phone",
            "phone number",
            "mobile",
            "tel",
            "telephone",
            "телефон",
            "тел",
            "мобильный",
            "мобильный телефон",
            "номер телефона",
            "сотовый",
        ),
        "marketing_consent": (
            "marketing consent",
            "consent",
            "согласие",
            "согласие на рассылку",
            "рассылка",
            "подписка",
        ),
        "first_seen": (
            "first seen",
            "first visit",
            "since",
            "registered",
            "дата регистрации",
            "первый визит",
            "первая покупка",
            "дата первой покупки",
            "клиент с",
        ),
    },
}


def key(header: str) -> str:
    """'Эл. почта' -> 'элпочта', ' E-Mail ' -> 'email', '№ чека' -> 'номерчека'."""
    # "№" first: NFKC would spell it "No".
    text = unicodedata.normalize("NFKC", header.replace("№", "номер")).casefold()
    text = text.replace("ё", "е")
    return "".join(ch for ch in text if ch.isalnum())


def _index(kind: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, words in SYNONYMS.get(kind, {}).items():
        found[key(name)] = name
        for word in words:
            found.setdefault(key(word), name)
    return found


_INDEXES = {kind: _index(kind) for kind in SYNONYMS}


def field_for(kind: str, header: str, known: Iterable[str]) -> str | None:
    """The field a header names: our own name, a synonym, or a near miss of a synonym."""
    wanted = key(header)
    if not wanted:
        return None
    allowed = set(known)
    for name in allowed:
        if key(name) == wanted:
            return name
    index = _INDEXES.get(kind, {})
    if wanted in index:
        return index[wanted]
    close = difflib.get_close_matches(wanted, list(index), n=1, cutoff=NEAR_MISS)
    return index[close[0]] if close else None


def suggest(kind: str, headers: Sequence[str], known: Iterable[str]) -> dict[str, str]:
    """{header: field or ''} for every header; each field goes to the first header naming it."""
    allowed = list(known)
    taken: set[str] = set()
    result: dict[str, str] = {}
    for header in headers:
        field = field_for(kind, header, allowed)
        if field is None or field in taken or field not in allowed:
            result[header] = IGNORE
        else:
            result[header] = field
            taken.add(field)
    return result


def combine(
    kind: str,
    headers: Sequence[str],
    known: Sequence[str],
    chosen: Mapping[str, str] | None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`base` (remembered or suggested) with the owner's `chosen` pairs laid over it.

    Keys of `chosen` match headers by key(); values are our field names, a synonym of one
    (`occurred_at`), or '' to ignore the column. Raises Invalid naming the pair at fault.
    """
    result = dict(base) if base is not None else suggest(kind, headers, known)
    for header in headers:
        result.setdefault(header, IGNORE)
    if not chosen:
        return result
    by_key = {key(h): h for h in headers}
    claimed: dict[str, str] = {}
    for given, target in chosen.items():
        if key(given) not in by_key:
            raise Invalid(f"the file has no column {given!r}", field="mapping")
        header = by_key[key(given)]
        field = IGNORE
        if target.strip() and key(target) not in ("ignore", "skip", "пропустить"):
            found = field_for(kind, target, known)
            if found is None or found not in known:
                raise Invalid(
                    f"{target!r} is not a field of {kind}; use one of {', '.join(known)}",
                    field="mapping",
                )
            field = found
        if field and field in claimed:
            raise Invalid(
                f"columns {claimed[field]!r} and {header!r} are both mapped to {field}",
                field="mapping",
            )
        if field:
            claimed[field] = header
            for other, was in result.items():
                if was == field and other != header:
                    result[other] = IGNORE
        result[header] = field
    return result


def shape(headers: Iterable[str]) -> str:
    """The file's shape: the set of its header keys, hashed (order does not matter)."""
    keys = sorted({key(h) for h in headers})
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:40]


def remembered(
    session: Session, *, business_id: uuid.UUID, kind: str, headers: Sequence[str]
) -> dict[str, str] | None:
    """The mapping last chosen for a file of this shape, re-keyed to these headers."""
    row = session.scalar(
        select(ImportMapping).where(
            ImportMapping.business_id == business_id,
            ImportMapping.kind == kind,
            ImportMapping.shape == shape(headers),
        )
    )
    if row is None:
        return None
    stored = {key(h): f for h, f in row.mapping.items()}
    return {h: stored.get(key(h), IGNORE) for h in headers}


def remember(
    session: Session,
    *,
    business_id: uuid.UUID,
    kind: str,
    mapping: Mapping[str, str],
) -> None:
    """Keep the owner's mapping for the next file of the same shape."""
    digest = shape(mapping)
    row = session.scalar(
        select(ImportMapping).where(
            ImportMapping.business_id == business_id,
            ImportMapping.kind == kind,
            ImportMapping.shape == digest,
        )
    )
    if row is None:
        session.add(
            ImportMapping(business_id=business_id, kind=kind, shape=digest, mapping=dict(mapping))
        )
    else:
        row.mapping = dict(mapping)
        row.updated_at = utcnow()
    session.flush()


def starting_point(
    session: Session,
    *,
    business_id: uuid.UUID | None,
    kind: str,
    headers: Sequence[str],
    known: Sequence[str],
) -> tuple[dict[str, str], bool]:
    """(mapping, remembered?): the remembered one for this shape, else the suggestion."""
    if business_id is not None:
        found = remembered(session, business_id=business_id, kind=kind, headers=headers)
        if found is not None:
            return found, True
    return suggest(kind, headers, known), False
