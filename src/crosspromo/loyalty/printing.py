"""Printable plastic cards: one CR80 card (front and back) or A4 sheets of 10 with crop marks.

A card is ISO/IEC 7810 ID-1 (CR80), 85.60 x 53.98 mm. The front has the coalition's name, the
members, the card number in groups (the check character last) and a QR code of that number,
which a till's scanner types into the card field as a cashier would. The back summarises the
rules in the holder's language. An A4 sheet holds 2 x 5 cards edge to edge (171.2 x 269.9 mm,
centred) with crop marks in the margins; each page of fronts is followed by its page of backs,
columns mirrored, so a duplex print (long-edge flip) puts each back behind its front.

The QR code and text placement reuse the coupon printer (crosspromo.offers.printing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal, get_currency_symbol
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.loyalty import service
from crosspromo.loyalty.models import Card, Coalition, MemberStatus
from crosspromo.offers.printing import PT, Writer, draw_qr, new_pdf
from crosspromo.offers.statement_files import money

CARD = (85.60, 53.98)  # mm, ISO/IEC 7810 ID-1
A4 = (210.0, 297.0)
COLUMNS, ROWS = 2, 5
PER_SHEET = COLUMNS * ROWS
PAD = 3.5
QR = 22.0
MARK, MARK_GAP = 4.0, 1.5  # crop marks: length and distance from the cut

LABELS = {
    "en": {
        "number": "Card number",
        "members": "Earn and spend at",
        "rules": "How the card works",
        "value": "1 point = {value}.",
        "earn": "{name}: {points} points per 100 {unit}",
        "share": "Points pay up to {share} % of a receipt.",
        "pending": "Points can be spent {days} days after the purchase",
        "pending_now": "Points can be spent right after the purchase",
        "expiry": " and expire {months} months after it.",
        "blank": "Activate the card at any member's till: give your phone or e-mail "
        "and agree to the programme's terms.",
        "active": "Your balance and expiry dates: on your card's page or at any member's till.",
    },
    "ru": {
        "number": "Номер карты",
        "members": "Копите и тратьте баллы в",
        "rules": "Как работает карта",
        "value": "1 балл = {value}.",
        "earn": "{name}: {points} баллов за 100 {unit}",
        "share": "Баллами можно оплатить до {share} % чека.",
        "pending": "Баллы можно потратить через {days} дн. после покупки",
        "pending_now": "Баллы можно потратить сразу после покупки",
        "expiry": " и сгорают через {months} мес. после неё.",
        "blank": "Активируйте карту на кассе любого участника: назовите телефон или e-mail "
        "и согласитесь с условиями программы.",
        "active": "Баланс и сроки баллов: на странице вашей карты или на кассе любого участника.",
    },
}


@dataclass(frozen=True)
class Programme:
    """What every card of a coalition says: its name, members and rules."""

    name: str
    currency: str
    point_value_minor: int
    max_share_bp: int
    pending_days: int
    expiry_months: int
    members: tuple[tuple[str, int], ...]  # (business name, earn_milli), active members


@dataclass(frozen=True)
class PrintedCard:
    number: str  # as displayed: groups, the check character last; also the QR's text
    blank: bool  # not activated yet: the back says how to activate it
    locale: str = "en"


def programme(session: Session, coalition: Coalition) -> Programme:
    """The coalition's name, active members (by joining) and rules, as printed."""
    active = [m for m in service.members(session, coalition.id) if m.status == MemberStatus.active]
    names = {
        b.id: b.name
        for b in session.query(Business).filter(Business.id.in_([m.business_id for m in active]))
    }
    return Programme(
        name=coalition.name,
        currency=coalition.currency,
        point_value_minor=coalition.point_value_minor,
        max_share_bp=coalition.max_share_bp,
        pending_days=coalition.pending_days,
        expiry_months=coalition.expiry_months,
        members=tuple((names.get(m.business_id, ""), m.earn_milli) for m in active),
    )


def printed(card: Card, locale: str | None = None) -> PrintedCard:
    """The card as printed, in `locale` or its holder's language."""
    chosen = locale if locale in LABELS else card.locale if card.locale in LABELS else "en"
    return PrintedCard(service.display_number(card.number), card.activated_at is None, chosen)


class _Printer(Writer):
    def __init__(self, page: tuple[float, float], p: Programme) -> None:
        super().__init__(new_pdf(page))
        self.p = p

    def front(self, card: PrintedCard, x0: float, y0: float) -> None:
        pdf, t = self.pdf, LABELS[card.locale]
        width = CARD[0] - 2 * PAD
        module = draw_qr(pdf, card.number, x0 + CARD[0] - PAD - QR, y0 + PAD, QR)
        text_w = width - QR - max(2.0, 4 * module)  # the QR's quiet zone stays clear
        x, y = x0 + PAD, y0 + PAD
        y = self.write(x, y, self.lines(self.p.name, "B", 10, text_w, 2), "B", 10, 1.1) + 1.2
        pdf.set_text_color(90)
        y = self.write(x, y, self.lines(t["members"], "", 5.5, text_w, 1), "", 5.5)
        pdf.set_text_color(0)
        members = " · ".join(name for name, _ in self.p.members)
        self.write(x, y, self.lines(members, "B", 6.5, text_w, 3), "B", 6.5)
        # The number across the whole width, shrunk if long, so a cashier can read it aloud.
        size = 14.0
        pdf.set_font("DejaVu", "B", size)
        wide = pdf.get_string_width(card.number)
        if wide > width:
            size *= width / wide
        bottom = y0 + CARD[1] - PAD
        pdf.set_text_color(90)
        self.write(x, bottom - size * PT - 5.5 * PT * 1.3, [t["number"]], "", 5.5)
        pdf.set_text_color(0)
        pdf.set_font("DejaVu", "B", size)
        pdf.text(x, bottom - size * PT * 0.2, card.number)

    def back(self, card: PrintedCard, x0: float, y0: float) -> None:
        t, p = LABELS[card.locale], self.p
        width = CARD[0] - 2 * PAD
        x, y = x0 + PAD, y0 + PAD
        y = self.write(x, y, self.lines(t["rules"], "B", 8, width, 1), "B", 8) + 0.8
        unit = get_currency_symbol(p.currency, locale=card.locale)
        earn = "; ".join(
            t["earn"].format(
                name=name, points=format_decimal(milli / 10, locale=card.locale), unit=unit
            )
            for name, milli in p.members
        )
        pending = t["pending"].format(days=p.pending_days) if p.pending_days else t["pending_now"]
        paragraphs = [
            (t["value"].format(value=money(p.point_value_minor, p.currency, card.locale)), 1),
            (earn + ".", 3),
            (t["share"].format(share=format_decimal(p.max_share_bp / 100, locale=card.locale)), 1),
            (pending + t["expiry"].format(months=p.expiry_months), 2),
            (t["blank"] if card.blank else t["active"], 2),
        ]
        for text, most in paragraphs:
            y = self.write(x, y, self.lines(text, "", 6, width, most), "", 6) + 0.6
        self.pdf.set_text_color(90)
        self.write(x, y0 + CARD[1] - PAD - 6 * PT * 1.2, [card.number], "", 6)
        self.pdf.set_text_color(0)

    def crop_marks(self, left: float, top: float) -> None:
        pdf = self.pdf
        pdf.set_draw_color(0)
        pdf.set_line_width(0.15)
        right, bottom = left + COLUMNS * CARD[0], top + ROWS * CARD[1]
        for c in range(COLUMNS + 1):
            x = left + c * CARD[0]
            pdf.line(x, top - MARK_GAP - MARK, x, top - MARK_GAP)
            pdf.line(x, bottom + MARK_GAP, x, bottom + MARK_GAP + MARK)
        for r in range(ROWS + 1):
            y = top + r * CARD[1]
            pdf.line(left - MARK_GAP - MARK, y, left - MARK_GAP, y)
            pdf.line(right + MARK_GAP, y, right + MARK_GAP + MARK, y)


def card_pdf(card: PrintedCard, p: Programme) -> bytes:
    """One card at its real size: page 1 the front, page 2 the back."""
    printer = _Printer(CARD, p)
    printer.pdf.add_page()
    printer.front(card, 0, 0)
    printer.pdf.add_page()
    printer.back(card, 0, 0)
    return bytes(printer.pdf.output())


def card_sheet(cards: Sequence[PrintedCard], p: Programme) -> bytes:
    """A4 pages of 10 cards with crop marks: fronts, then the backs mirrored for duplex."""
    printer = _Printer(A4, p)
    left = (A4[0] - COLUMNS * CARD[0]) / 2
    top = (A4[1] - ROWS * CARD[1]) / 2
    for start in range(0, max(len(cards), 1), PER_SHEET):
        batch = cards[start : start + PER_SHEET]
        for side in ("front", "back"):
            printer.pdf.add_page()
            printer.crop_marks(left, top)
            for i, card in enumerate(batch):
                column, row = i % COLUMNS, i // COLUMNS
                if side == "back":
                    column = COLUMNS - 1 - column
                draw: Any = printer.front if side == "front" else printer.back
                draw(card, left + column * CARD[0], top + row * CARD[1])
    return bytes(printer.pdf.output())
