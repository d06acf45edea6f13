"""Contacts, consent evidence, one-click unsubscribe and the suppression list.

Consent is only ever recorded from what the person said (a form, a signed sheet, a reply):
nothing here reads purchases, and a contact starts with no consent on any channel.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crosspromo import identifiers
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.messaging import quiet
from crosspromo.messaging.models import Channel, Consent, Contact, Reason, Suppression

LOCALES = ("en", "ru")
CONSENT_FIELD = {
    Channel.email: "email_consent",
    Channel.sms: "sms_consent",
    Channel.telegram: "telegram_consent",
}


def address_hash(channel: Channel, address: str, secret_key: str) -> str:
    """The keyed hash of a normalised address (the same as customers' for e-mail and phone)."""
    kind = {Channel.email: "email", Channel.sms: "phone", Channel.telegram: "telegram"}[channel]
    return identifiers.identifier_hash(kind, address, secret_key)


def add_contact(
    session: Session,
    *,
    business_id: uuid.UUID,
    secret_key: str,
    region: str,
    name: str = "",
    email: str = "",
    phone: str = "",
    telegram_chat_id: str = "",
    locale: str = "en",
    timezone: str = "",
) -> Contact:
    """A new contact with no consent yet; the addresses are validated and normalised.

    Its zone is the one given, else the phone's when the number has only one, else none (the
    business's zone applies)."""
    if locale not in LOCALES:
        raise Invalid("Use the locale en or ru.", field="locale")
    contact = Contact(business_id=business_id, name=name.strip(), locale=locale)
    if timezone.strip():
        contact.timezone = quiet.check_zone(timezone.strip())
    try:
        if email.strip():
            contact.email = identifiers.normalize_email(email)
            contact.email_hash = address_hash(Channel.email, contact.email, secret_key)
    except identifiers.IdentifierError as exc:
        raise Invalid(str(exc), field="email") from exc
    try:
        if phone.strip():
            contact.phone = identifiers.normalize_phone(phone, region)
            contact.phone_hash = address_hash(Channel.sms, contact.phone, secret_key)
    except identifiers.IdentifierError as exc:
        raise Invalid(str(exc), field="phone") from exc
    if contact.timezone is None and contact.phone:
        contact.timezone = quiet.zone_of_phone(contact.phone)
    chat = telegram_chat_id.strip()
    if chat:
        if not chat.lstrip("-").isdigit() or len(chat) > 20:
            raise Invalid("A Telegram chat id is a number.", field="telegram_chat_id")
        contact.telegram_chat_id = chat
        contact.telegram_hash = address_hash(Channel.telegram, chat, secret_key)
    if not (contact.email or contact.phone or contact.telegram_chat_id):
        raise Invalid("Give an e-mail, a phone or a Telegram chat id.", field="email")
    clash = [Contact.email_hash == contact.email_hash] if contact.email_hash else []
    clash += [Contact.phone_hash == contact.phone_hash] if contact.phone_hash else []
    clash += [Contact.telegram_chat_id == chat] if chat else []
    if session.scalar(
        select(Contact.id).where(Contact.business_id == business_id, or_(*clash)).limit(1)
    ):
        raise Conflict("This business already has a contact with this address.", field="email")
    contact.token = secrets.token_urlsafe(32)
    session.add(contact)
    session.flush()
    return contact


def get(session: Session, *, business_id: uuid.UUID, contact_id: uuid.UUID) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.business_id != business_id:
        raise NotFound("No such contact.")
    return contact


def by_token(session: Session, token: str) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.token == token[:64]))
    if contact is None:
        raise NotFound("This link is not known.")
    return contact


def address(contact: Contact, channel: Channel) -> str:
    """Where this contact is reached on `channel` ("" when not at all)."""
    if channel is Channel.email:
        return contact.email
    if channel is Channel.sms:
        return contact.phone
    return contact.telegram_chat_id or ""


def record_consent(
    session: Session,
    contact: Contact,
    *,
    channel: Channel,
    granted: bool,
    source: str,
    wording: str = "",
    given_at: datetime | None = None,
) -> Consent:
    """Grant or withdraw consent on one channel, keeping when, where and the words as evidence."""
    if granted and not address(contact, channel):
        raise Invalid(f"The contact has no {channel.value} address.", field="channel")
    if granted and not (source.strip() and wording.strip()):
        raise Invalid("Say where the consent was given and the words agreed to.", field="wording")
    when = given_at or utcnow()
    if when.tzinfo is None:
        raise Invalid("Give the time with its offset.", field="given_at")
    entry = Consent(
        contact_id=contact.id,
        channel=channel,
        granted=granted,
        given_at=when,
        source=source.strip()[:100],
        wording=wording.strip(),
    )
    session.add(entry)
    setattr(contact, CONSENT_FIELD[channel], granted)
    session.flush()
    return entry


def consents(session: Session, contact: Contact) -> list[Consent]:
    """The evidence, newest first."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.contact_id == contact.id)
            .order_by(Consent.recorded_at.desc())
        )
    )


def unsubscribe(session: Session, token: str, *, channel: Channel, source: str) -> Contact:
    """Withdraw consent on one channel from the link in a message (RFC 8058 one-click too)."""
    contact = by_token(session, token)
    if getattr(contact, CONSENT_FIELD[channel]):
        record_consent(session, contact, channel=channel, granted=False, source=source)
    return contact


def suppress(
    session: Session,
    *,
    business_id: uuid.UUID,
    channel: Channel,
    address_value: str,
    reason: Reason,
    secret_key: str,
    region: str = "RU",
) -> Suppression:
    """Stop an address (a bounce, a complaint, by hand); repeated reports are kept once."""
    try:
        if channel is Channel.email:
            value = identifiers.normalize_email(address_value)
        elif channel is Channel.sms:
            value = identifiers.normalize_phone(address_value, region)
        else:
            value = address_value.strip()
    except identifiers.IdentifierError as exc:
        raise Invalid(str(exc), field="address") from exc
    digest = address_hash(channel, value, secret_key)
    found = session.scalar(
        select(Suppression).where(
            Suppression.business_id == business_id,
            Suppression.channel == channel,
            Suppression.address_hash == digest,
        )
    )
    if found is not None:
        return found
    entry = Suppression(
        business_id=business_id, channel=channel, address_hash=digest, reason=reason
    )
    session.add(entry)
    session.flush()
    return entry


def suppressed(session: Session, *, business_id: uuid.UUID, channel: Channel, digest: str) -> bool:
    """Whether the address is stopped for this business, or bounced for anyone."""
    return (
        session.scalar(
            select(Suppression.id)
            .where(
                Suppression.channel == channel,
                Suppression.address_hash == digest,
                or_(Suppression.business_id == business_id, Suppression.reason == Reason.bounce),
            )
            .limit(1)
        )
        is not None
    )


def digest_for(contact: Contact, channel: Channel) -> str:
    """The address hash the suppression list uses for this contact's channel."""
    found = {
        Channel.email: contact.email_hash,
        Channel.sms: contact.phone_hash,
        Channel.telegram: contact.telegram_hash,
    }[channel]
    return found or ""


def person_keys(contact: Contact) -> list[str]:
    """Every keyed hash the person is known by: the platform-wide caps count under each."""
    return [h for h in (contact.email_hash, contact.phone_hash, contact.telegram_hash) if h]
