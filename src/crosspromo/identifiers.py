"""Normalising customer and business identifiers, and their keyed hashes.

The clear value is what the owner sees. The keyed HMAC (install secret) lets the platform
match the same person across businesses without a plain hash anyone could rebuild from a
phone book.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class IdentifierError(ValueError):
    pass


def normalize_phone(raw: str, region: str) -> str:
    """Return the phone number in E.164, reading local numbers in `region`."""
    text = raw.strip()
    if not text:
        raise IdentifierError("phone is empty")
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise IdentifierError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise IdentifierError(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Return the e-mail address validated and lower-cased."""
    text = raw.strip()
    if not text:
        raise IdentifierError("e-mail is empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise IdentifierError(f"not a valid e-mail address: {raw!r}") from exc
    return result.normalized.lower()


def identifier_hash(kind: str, value: str, key: str) -> str:
    """Keyed HMAC-SHA256 of a normalised identifier, hex encoded."""
    message = f"{kind}:{value}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
