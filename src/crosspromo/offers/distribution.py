"""Getting codes to people: printable coupon sheets, and e-mail to consenting customers.

Texts are marked with `N_()` for the catalogue; until the catalogue carries them, Russian comes
from the small dictionary below, so a sheet or an e-mail needs no request context (the same
choice as `partnerships/pdf.py`).

An e-mailed code is marked without a schema change: its `label` becomes
"sent to customer <customer id>", and only codes with an empty label are handed out. The
outbox key `offer-email:<offer>:<customer>` makes a second run send nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.dates import format_date, get_day_names
from babel.numbers import format_currency, format_decimal, get_currency_precision
from slugify import slugify
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crosspromo import paging
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.customers.models import Customer
from crosspromo.errors import Forbidden, Invalid
from crosspromo.measurement import audience as control
from crosspromo.offers import codes, printing, service
from crosspromo.offers.models import Benefit, Code, CodeKind, Offer
from crosspromo.outbox import service as outbox
from crosspromo.roles import Actor, Role
from crosspromo.settings import get_settings
from crosspromo.web.i18n import N_, translations

MAX_COUPONS = 10_000  # per print job: ~5 s on two cores (bench/coupons_pdf.py)
# Per request (GET coupons.pdf): a small print stays synchronous for the cashier, ~0.2 s of
# work; more goes to a print job so no request holds an app server's worker for long.
AT_ONCE = 200
JOBS_HINT = "or print up to {most:,} at once in the background: POST {url}"
PAGE = 1_000
SENT_LABEL = "sent to customer "

# msgid -> Russian, used while the Babel catalogue has no translation of its own.
RU = {
    N_("%(percent)s%% off"): "Скидка %(percent)s%%",
    N_("%(amount)s off"): "Скидка %(amount)s",
    N_("A gift: %(item)s"): "Подарок: %(item)s",
    N_("Free: %(item)s"): "Бесплатно: %(item)s",
    N_("%(item)s for %(amount)s"): "%(item)s за %(amount)s",
    N_("A set for %(amount)s"): "Комплект за %(amount)s",
    N_("On orders from %(amount)s."): "При заказе от %(amount)s.",
    N_("Days: %(days)s."): "Дни: %(days)s.",
    N_("Hours: %(start)s:00–%(end)s:00."): "Часы: %(start)s:00–%(end)s:00.",
    N_("New customers only."): "Только для новых клиентов.",
    N_("Once per customer."): "Один раз на клиента.",
    N_("Up to %(n)s times per customer."): "Не более %(n)s раз на клиента.",
    N_("Show the partner's card."): "Покажите карту партнёра.",
    N_("Does not combine with other offers."): "Не суммируется с другими акциями.",
    N_("Valid from %(date)s."): "Действует с %(date)s.",
    N_("until further notice"): "до отмены",
    N_("%(issuer)s: %(title)s"): "%(issuer)s: %(title)s",
    N_("Hello, %(name)s!"): "Здравствуйте, %(name)s!",
    N_("Hello!"): "Здравствуйте!",
    N_("%(issuer)s and %(partner)s have an offer for you: %(benefit)s."): (
        "%(issuer)s и %(partner)s дарят вам предложение: %(benefit)s."
    ),
    N_("Your code: %(code)s"): "Ваш код: %(code)s",
    N_("Show it at %(where)s."): "Покажите его в «%(where)s».",
    N_("Valid until %(date)s."): "Действует до %(date)s.",
    N_("The code on your phone: %(url)s"): "Код на телефоне: %(url)s",
    N_(
        "You receive this because you agreed to hear from %(issuer)s. Reply to this e-mail to stop."
    ): (
        "Вы получили это письмо, потому что согласились получать новости от %(issuer)s. "
        "Ответьте на него, чтобы отписаться."
    ),
}


def text(locale: str, msgid: str, **values: object) -> str:
    """`msgid` in `locale`: the catalogue if it translates it, else the dictionary above."""
    found = translations(locale).gettext(msgid) if locale != "en" else msgid
    if found == msgid and locale == "ru":
        found = RU.get(msgid, msgid)
    return found % values if values else found


def _locale(locale: str) -> str:
    if locale not in printing.LABELS:
        raise Invalid("Use the locale en or ru.", field="locale")
    return locale


def money(minor: int, currency: str, locale: str) -> str:
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


def benefit_text(offer: Offer, locale: str) -> str:
    """What the customer gets, e.g. "10% off", "Скидка 500,00 ₽", "Free: espresso"."""
    amount = money(offer.amount_minor or 0, offer.currency, locale)
    if offer.benefit is Benefit.percent:
        percent = format_decimal(Decimal(offer.percent_bp or 0) / 100, locale=locale)
        return text(locale, N_("%(percent)s%% off"), percent=percent)
    if offer.benefit is Benefit.fixed:
        return text(locale, N_("%(amount)s off"), amount=amount)
    if offer.benefit is Benefit.gift:
        return text(locale, N_("A gift: %(item)s"), item=offer.item)
    if offer.benefit is Benefit.free_item:
        return text(locale, N_("Free: %(item)s"), item=offer.item)
    if offer.item:
        return text(locale, N_("%(item)s for %(amount)s"), item=offer.item, amount=amount)
    return text(locale, N_("A set for %(amount)s"), amount=amount)


def conditions_text(offer: Offer, locale: str) -> str:
    """The conditions a cashier checks, one short sentence each."""
    parts: list[str] = []
    if offer.min_order_minor:
        parts.append(
            text(
                locale,
                N_("On orders from %(amount)s."),
                amount=money(offer.min_order_minor, offer.currency, locale),
            )
        )
    if offer.days != 0b1111111:
        names = get_day_names("abbreviated", locale=locale)
        days = ", ".join(names[d] for d in range(7) if offer.days & (1 << d))
        parts.append(text(locale, N_("Days: %(days)s."), days=days))
    if (offer.hour_from, offer.hour_until) != (0, 24):
        parts.append(
            text(
                locale,
                N_("Hours: %(start)s:00–%(end)s:00."),
                start=f"{offer.hour_from:02d}",
                end=f"{offer.hour_until:02d}",
            )
        )
    if offer.valid_from:
        parts.append(text(locale, N_("Valid from %(date)s."), date=_date(offer.valid_from, locale)))
    if offer.new_customers_only:
        parts.append(text(locale, N_("New customers only.")))
    if offer.per_customer_limit == 1:
        parts.append(text(locale, N_("Once per customer.")))
    elif offer.per_customer_limit:
        parts.append(
            text(locale, N_("Up to %(n)s times per customer."), n=offer.per_customer_limit)
        )
    if offer.needs_partner_card:
        parts.append(text(locale, N_("Show the partner's card.")))
    if not offer.stackable:
        parts.append(text(locale, N_("Does not combine with other offers.")))
    return " ".join(parts)


def _date(day: date, locale: str) -> str:
    return format_date(day, "dd.MM.yyyy" if locale == "ru" else "medium", locale=locale)


def place(business: Business) -> str:
    """The business's name and address line, e.g. "Cafe, 12 Lenin St, Kazan"."""
    return ", ".join(part for part in (business.name, business.address, business.city) if part)


def display_code(code: Code, offer: Offer) -> str:
    """The code as printed: generated codes in groups of four after the prefix."""
    if code.kind in (CodeKind.unique, CodeKind.link):
        pattern = codes.CodePattern(prefix=offer.code_prefix, groups=10, group_size=4)
        return codes.format(code.code, pattern)
    return code.code


def code_url(code: Code, public_url: str) -> str:
    # A public landing page /c/{code} does not exist yet; every QR code points at /r/{code},
    # the referral route, which is where a scanned code should land.
    return f"{public_url.rstrip('/')}/r/{code.code}"


def _usable(code: Code) -> bool:
    return code.max_uses is None or code.uses < code.max_uses


def _printable(session: Session, offer: Offer, after: str) -> Iterator[Code]:
    """Codes still usable and not e-mailed to someone, in code order after `after` (the last
    code printed: people type it, so it stays a code rather than an opaque cursor)."""
    cursor = paging.encode((after,)) if after else None
    while True:
        page = service.list_codes(session, offer, limit=PAGE, cursor=cursor)
        for code in page:
            if _usable(code) and not code.label.startswith(SENT_LABEL):
                yield code
        if len(page) < PAGE:
            return
        cursor = paging.encode(service.code_key(page[-1]))


def _member_role(actor: Actor, business: Business) -> Role | None:
    return businesses.role_in(actor, business)


def _sides(session: Session, offer: Offer) -> tuple[Business, Business]:
    found = {
        b.id: b
        for b in businesses.by_ids(session, {offer.issuer_business_id, offer.honouring_business_id})
    }
    return found[offer.issuer_business_id], found[offer.honouring_business_id]


@dataclass(frozen=True)
class Sheet:
    """A PDF of coupons, how many it holds, and the cursor for the next one (None: no more)."""

    pdf: bytes
    count: int
    next_after: str | None


def file_name(title: str, layout: str) -> str:
    """ "Free croissant" -> free-croissant-coupons.pdf (Cyrillic transliterated: ASCII only)."""
    suffix = "coupons" if layout == "a4" else f"coupons-{layout}"
    return f"{slugify(title, max_length=60) or 'offer'}-{suffix}.pdf"


def check_print(
    session: Session,
    actor: Actor,
    offer_id: uuid.UUID,
    *,
    layout: str = "a4",
    locale: str = "en",
    limit: int | None = None,
    most: int = MAX_COUPONS,
) -> tuple[Offer, dict[str, str]]:
    """The offer if the actor manages its issuer or honourer, and the texts its coupons carry."""
    locale = _locale(locale)
    if layout not in printing.GEOMETRY:
        raise Invalid("Use the layout a4 or card.", field="layout")
    if limit is not None and not 1 <= limit <= most:
        raise Invalid(
            f"Print 1 to {most:,} coupons per request; "
            f"page through the rest with `after` (the last code printed){_hint(offer_id, most)}.",
            field="limit",
        )
    offer = service.get_offer(session, actor, offer_id, need=Role.manager)
    campaign, _ = campaigns.get(session, actor, offer.campaign_id, need=Role.manager)
    issuer, honouring = _sides(session, offer)
    roles = [_member_role(actor, issuer), _member_role(actor, honouring)]
    if not any(r is not None and r.at_least(Role.manager) for r in roles):
        raise Forbidden("Only the issuing or the honouring business prints this offer.")
    until = offer.valid_until or campaign.ends_on
    texts = {
        "title": offer.title,
        "benefit": benefit_text(offer, locale),
        "conditions": conditions_text(offer, locale),
        "honoured_by": place(honouring),
        "issued_by": issuer.name,
        "valid_until": _date(until, locale) if until else text(locale, N_("until further notice")),
    }
    return offer, texts


def _hint(offer_id: uuid.UUID, most: int) -> str:
    if most >= MAX_COUPONS:
        return ""
    url = f"/api/v1/offers/{offer_id}/print-jobs"
    return ", " + JOBS_HINT.format(most=MAX_COUPONS, url=url)


def pick_codes(
    session: Session, offer: Offer, *, limit: int | None, after: str, most: int = MAX_COUPONS
) -> tuple[list[Code], str | None]:
    """The next printable codes (at most `limit`, else all up to `most`) and the cursor after
    them when more remain."""
    want = limit if limit is not None else most
    picked: list[Code] = []
    more = False
    for code in _printable(session, offer, codes.normalize(after)):
        if len(picked) == want:
            more = True
            break
        picked.append(code)
    if more and limit is None:
        raise Invalid(
            f"This offer has more than {most:,} codes to print; print at most "
            f"{most:,} per request with `limit`, then the next ones with `after` "
            f"(the last code printed){_hint(offer.id, most)}.",
            field="limit",
        )
    return picked, picked[-1].code if more and picked else None


def coupons(
    offer: Offer, picked: list[Code], texts: dict[str, str], public_url: str
) -> list[printing.Coupon]:
    return [
        printing.Coupon(code=display_code(c, offer), url=code_url(c, public_url), **texts)
        for c in picked
    ]


def coupons_pdf(
    session: Session,
    actor: Actor,
    offer_id: uuid.UUID,
    *,
    layout: printing.Layout = "a4",
    locale: str = "en",
    limit: int | None = None,
    after: str = "",
    public_url: str | None = None,
) -> Sheet:
    """Up to AT_ONCE coupons with QR codes, rendered now; managers of issuer or honourer."""
    offer, texts = check_print(
        session, actor, offer_id, layout=layout, locale=locale, limit=limit, most=AT_ONCE
    )
    picked, next_after = pick_codes(session, offer, limit=limit, after=after, most=AT_ONCE)
    batch = coupons(offer, picked, texts, public_url or get_settings().public_url)
    pdf = printing.coupon_sheet(batch, layout=layout, locale=locale)
    return Sheet(pdf, len(batch), next_after)


@dataclass(frozen=True)
class Sent:
    """What one e-mail run did, customer by customer of the issuing business."""

    sent: int = 0
    already_sent: int = 0
    skipped_no_consent: int = 0
    skipped_no_email: int = 0
    skipped_no_code: int = 0
    held_out: int = 0  # customers in the campaign's holdout: no code, no message


def _customers(session: Session, business_id: uuid.UUID) -> Iterator[Customer]:
    after: uuid.UUID | None = None
    while True:
        query = select(Customer).where(Customer.business_id == business_id)
        if after is not None:
            query = query.where(Customer.id > after)
        page = list(session.scalars(query.order_by(Customer.id).limit(PAGE)))
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].id


def _free_codes(session: Session, offer: Offer) -> Iterator[Code]:
    """Unused unique codes nobody was sent yet, a page at a time."""
    after = ""
    while True:
        page = list(
            session.scalars(
                select(Code)
                .where(
                    Code.offer_id == offer.id,
                    Code.kind == CodeKind.unique,
                    Code.label == "",
                    Code.uses == 0,
                    Code.code > after,
                )
                .order_by(Code.code)
                .limit(PAGE)
            )
        )
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].code


def _take(session: Session, code: Code, label: str) -> bool:
    """Mark the code as sent by a conditional UPDATE: a simultaneous run cannot take it too."""
    result = session.execute(
        update(Code)
        .where(Code.id == code.id, Code.label == "")
        .values(label=label)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def email_codes(
    session: Session,
    actor: Actor,
    offer_id: uuid.UUID,
    *,
    locale: str = "en",
    public_url: str | None = None,
    secret_key: str | None = None,
) -> Sent:
    """One unique code per consenting customer of the issuer, by e-mail through the outbox.

    The audience is split into treatment and holdout here, at issue time (once; customers
    who became eligible since are added by the same keyed rule); the holdout is skipped.
    """
    locale = _locale(locale)
    public_url = public_url or get_settings().public_url
    offer = service.get_offer(session, actor, offer_id, need=Role.manager)
    issuer, honouring = _sides(session, offer)
    role = _member_role(actor, issuer)
    if role is None or not role.at_least(Role.manager):
        raise Forbidden("Only managers of the issuing business send its offer to its customers.")
    campaign, _ = campaigns.get(session, actor, offer.campaign_id, need=Role.manager)
    control.draw(
        session, campaign, issuer.id, secret_key=secret_key or get_settings().resolved_secret_key()
    )
    held_out = control.holdout_ids(session, campaign.id)
    done = set(
        session.scalars(
            select(Code.label).where(Code.offer_id == offer.id, Code.label.startswith(SENT_LABEL))
        )
    )
    until = offer.valid_until or campaign.ends_on
    benefit = benefit_text(offer, locale)
    conditions = conditions_text(offer, locale)
    subject = text(locale, N_("%(issuer)s: %(title)s"), issuer=issuer.name, title=offer.title)
    free = _free_codes(session, offer)
    counts = dict.fromkeys(("sent", "already", "consent", "email", "code", "held_out"), 0)
    for customer in _customers(session, issuer.id):
        if customer.id in held_out:
            counts["held_out"] += 1
            continue
        if not customer.marketing_consent:
            counts["consent"] += 1
            continue
        if not customer.email:
            counts["email"] += 1
            continue
        label = f"{SENT_LABEL}{customer.id}"
        if label in done:
            counts["already"] += 1
            continue
        code = next((c for c in free if _take(session, c, label)), None)
        if code is None:
            counts["code"] += 1
            continue
        shown = display_code(code, offer)
        lines = [
            text(locale, N_("Hello, %(name)s!"), name=customer.name)
            if customer.name
            else text(locale, N_("Hello!")),
            "",
            text(
                locale,
                N_("%(issuer)s and %(partner)s have an offer for you: %(benefit)s."),
                issuer=issuer.name,
                partner=honouring.name,
                benefit=benefit,
            ),
            offer.title,
            conditions,
            "",
            text(locale, N_("Your code: %(code)s"), code=shown),
            text(locale, N_("Show it at %(where)s."), where=place(honouring)),
        ]
        if until:
            lines.append(text(locale, N_("Valid until %(date)s."), date=_date(until, locale)))
        lines += [
            text(locale, N_("The code on your phone: %(url)s"), url=code_url(code, public_url)),
            "",
            text(
                locale,
                N_(
                    "You receive this because you agreed to hear from %(issuer)s. "
                    "Reply to this e-mail to stop."
                ),
                issuer=issuer.name,
            ),
        ]
        outbox.enqueue(
            session,
            kind="email",
            key=f"offer-email:{offer.id}:{customer.id}",
            payload={"to": customer.email, "subject": subject, "text": "\n".join(lines)},
        )
        counts["sent"] += 1
    session.flush()
    return Sent(
        sent=counts["sent"],
        already_sent=counts["already"],
        skipped_no_consent=counts["consent"],
        skipped_no_email=counts["email"],
        skipped_no_code=counts["code"],
        held_out=counts["held_out"],
    )


def held_codes(
    session: Session, *, issuer_business_id: uuid.UUID, ending_from: date, ending_until: date
) -> list[tuple[uuid.UUID, uuid.UUID, date]]:
    """(code, customer, last valid day) of codes handed to the issuer's known customers and
    still usable, whose offer ends between the two days (for reminders before expiry)."""
    rows = session.execute(
        select(Code.id, Code.label, Offer.valid_until)
        .join(Offer, Offer.id == Code.offer_id)
        .where(
            Offer.issuer_business_id == issuer_business_id,
            Offer.valid_until.is_not(None),
            Offer.valid_until >= ending_from,
            Offer.valid_until <= ending_until,
            Code.label.startswith(SENT_LABEL, autoescape=True),
            (Code.max_uses.is_(None)) | (Code.uses < Code.max_uses),
        )
        .order_by(Code.id)
    ).all()
    found = []
    for code_id, label, until in rows:
        if until is None:
            continue
        try:
            found.append((code_id, uuid.UUID(label[len(SENT_LABEL) :]), until))
        except ValueError:
            continue  # a label written by hand that only looks like ours
    return found
