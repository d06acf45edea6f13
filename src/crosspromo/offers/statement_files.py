"""A partner statement as CSV (for a spreadsheet or the accountant) and as a printable PDF.

CSV: one row per accrual with the columns in CSV_COLUMNS, amounts in integer minor units,
then one `total` row per currency and direction (receivable, payable, net); no locale
formatting, so any program reads it the same. PDF: A4 with the vendored DejaVu font (Cyrillic),
labels in en or ru from the small dictionary below, money formatted by Babel.
"""

from __future__ import annotations

import io
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision
from sqlalchemy.orm import Session

from crosspromo import spreadsheets
from crosspromo.offers.statements import PAYABLE, RECEIVABLE, Statement, every_line
from crosspromo.web.fonts import FONT, a4_document

CSV_COLUMNS = ["date", "kind", "offer", "order_minor", "amount_minor", "currency", "direction"]
MARGIN = 12.0

LABELS = {
    "en": {
        "heading": "Statement",
        "period": "Period",
        "date": "Date",
        "kind": "Kind",
        "offer": "Offer",
        "order": "Order",
        "amount": "Amount",
        "direction": "Direction",
        RECEIVABLE: "owed to us",
        PAYABLE: "we owe",
        "net": "Net",
        "net_note": "positive: the partner owes us",
        "totals": "Totals",
        "none": "No accruals in this period.",
        "reciprocity": "Reciprocity (barter)",
        "redeemed": "{issuer}'s offers redeemed at {honouring}: {count}, orders {amount}",
        "delivered": "{name}: delivered {delivered} of {expected} owed by {until}",
        "sale": "sale",
        "lead": "lead",
        "click": "click",
        "staff_reward": "staff reward",
        "fixed_fee": "fixed fee",
    },
    "ru": {
        "heading": "Выписка по расчётам",
        "period": "Период",
        "date": "Дата",
        "kind": "Вид",
        "offer": "Предложение",
        "order": "Заказ",
        "amount": "Сумма",
        "direction": "Кто кому",
        RECEIVABLE: "нам должны",
        PAYABLE: "мы должны",
        "net": "Сальдо",
        "net_note": "плюс: партнёр должен нам",
        "totals": "Итого",
        "none": "За период начислений нет.",
        "reciprocity": "Взаимность (бартер)",
        "redeemed": "Предложения «{issuer}» погашены в «{honouring}»: {count}, заказы {amount}",
        "delivered": "{name}: выполнено {delivered} из {expected} к {until}",
        "sale": "продажа",
        "lead": "лид",
        "click": "клик",
        "staff_reward": "награда персоналу",
        "fixed_fee": "фикс. плата",
    },
}


def money(minor: int, currency: str, locale: str) -> str:
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


def to_csv(session: Session, found: Statement) -> str:
    """The statement's lines and totals as CSV text."""
    buffer = io.StringIO()
    writer = spreadsheets.Writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in every_line(session, found):
        writer.writerow(
            [
                line.on.isoformat(),
                line.kind,
                line.offer_title,
                "" if line.order_minor is None else line.order_minor,
                line.amount_minor,
                line.currency,
                line.direction,
            ]
        )
    for total in found.totals:
        for direction, amount in (
            (RECEIVABLE, total.receivable),
            (PAYABLE, total.payable),
            ("net", total.net),
        ):
            writer.writerow(["", "total", "", "", amount, total.currency, direction])
    return buffer.getvalue()


def to_pdf(session: Session, found: Statement, locale: str = "en") -> bytes:
    """The statement as an A4 PDF: the lines, totals per currency and, for barter, reciprocity."""
    locale = locale if locale in LABELS else "en"
    t = LABELS[locale]
    pdf = a4_document(f"{t['heading']}: {found.business.name} — {found.partner.name}", MARGIN)
    width = pdf.w - 2 * MARGIN

    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width, 8, t["heading"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(
        width, 6, f"{found.business.name} ↔ {found.partner.name}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FONT, "", 9)
    period = (
        f"{t['period']}: {format_date(found.start, 'long', locale=locale)} — "
        f"{format_date(found.end, 'long', locale=locale)}"
    )
    pdf.multi_cell(width, 5, period, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    columns: list[tuple[str, float]] = [
        (t["date"], 22),
        (t["kind"], 26),
        (t["offer"], 58),
        (t["order"], 26),
    ]
    columns += [(t["amount"], 26), (t["direction"], width - 158)]

    def header() -> None:
        pdf.set_font(FONT, "B", 8)
        pdf.set_fill_color(235)
        for label, w in columns:
            pdf.cell(w, 6, label, border="B", fill=True)
        pdf.ln()
        pdf.set_font(FONT, "", 8)

    header()
    any_line = False
    for line in every_line(session, found):
        any_line = True
        if pdf.get_y() + 5 > pdf.h - MARGIN:
            pdf.add_page()
            header()
        title = line.offer_title
        while title and pdf.get_string_width(title) > 56:
            title = title[:-2] + "…"
        cells = [
            format_date(line.on, "short", locale=locale),
            t.get(line.kind, line.kind),
            title,
            "" if line.order_minor is None else money(line.order_minor, line.currency, locale),
            money(line.amount_minor, line.currency, locale),
            t[line.direction],
        ]
        for (_, w), text in zip(columns, cells, strict=True):
            pdf.cell(w, 5, text, align="R" if text and text[0].isdigit() and w == 26 else "L")
        pdf.ln()
    if not any_line:
        pdf.cell(width, 6, t["none"])
        pdf.ln()

    pdf.ln(3)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 6, t["totals"])
    pdf.ln()
    pdf.set_font(FONT, "", 9)
    for total in found.totals:
        text = (
            f"{total.currency}: {t[RECEIVABLE]} {money(total.receivable, total.currency, locale)}"
            f" · {t[PAYABLE]} {money(total.payable, total.currency, locale)}"
            f" · {t['net']} {money(total.net, total.currency, locale)}"
        )
        pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")
    if found.totals:
        pdf.set_text_color(100)
        pdf.multi_cell(width, 5, f"{t['net']}: {t['net_note']}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)

    if found.reciprocity is not None:
        names = {found.business.id: found.business.name, found.partner.id: found.partner.name}
        pdf.ln(3)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(width, 6, t["reciprocity"])
        pdf.ln()
        pdf.set_font(FONT, "", 9)
        for flow in found.reciprocity.flows:
            text = t["redeemed"].format(
                issuer=names[flow.issuer_id],
                honouring=names[flow.honouring_id],
                count=flow.count,
                amount=money(flow.order_minor, flow.currency, locale),
            )
            pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")
        for agreement in found.reciprocity.deliveries:
            for side in agreement["sides"]:
                text = t["delivered"].format(
                    name=side["name"],
                    delivered=format_decimal(side["delivered"], locale=locale),
                    expected=format_decimal(side["expected"], locale=locale),
                    until=agreement["until"],
                )
                pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
