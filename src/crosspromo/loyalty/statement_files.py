"""The clearing statement of a coalition as an A4 PDF (labels in English or Russian)."""

from __future__ import annotations

from babel.dates import format_date

from crosspromo.loyalty.clearing import Statement
from crosspromo.offers.statement_files import money
from crosspromo.web.fonts import FONT, a4_document

MARGIN = 15
LABELS = {
    "en": {
        "heading": "Clearing statement",
        "period": "Period",
        "member": "Member",
        "issued": "Its points spent elsewhere (owes)",
        "accepted": "Others' points accepted (owed)",
        "net": "Net",
        "transfers": "Payments after netting",
        "pays": "pays",
        "none": "Nothing to settle.",
    },
    "ru": {
        "heading": "Клиринговая ведомость",
        "period": "Период",
        "member": "Участник",
        "issued": "Его баллы списаны у других (должен)",
        "accepted": "Принято чужих баллов (должны ему)",
        "net": "Сальдо",
        "transfers": "Платежи после взаимозачёта",
        "pays": "платит",
        "none": "Расчётов нет.",
    },
}


def to_pdf(statement: Statement, coalition_name: str, locale: str = "en") -> bytes:
    """Per member issued, accepted and net, then who pays whom after netting."""
    locale = locale if locale in LABELS else "en"
    t = LABELS[locale]
    pdf = a4_document(f"{t['heading']}: {coalition_name}", MARGIN)
    width = pdf.w - 2 * MARGIN
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width, 8, t["heading"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(width, 6, coalition_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    period = (
        f"{t['period']}: {format_date(statement.first_day, 'long', locale=locale)} — "
        f"{format_date(statement.last_day, 'long', locale=locale)} ({statement.timezone})"
    )
    pdf.multi_cell(width, 5, period, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    columns = [(t["member"], width - 120), (t["issued"], 45), (t["accepted"], 45), (t["net"], 30)]
    pdf.set_font(FONT, "B", 8)
    pdf.set_fill_color(235)
    for label, w in columns:
        pdf.cell(w, 6, label, border="B", fill=True)
    pdf.ln()
    pdf.set_font(FONT, "", 8)
    currency = statement.currency
    for line in statement.lines:
        cells = [
            line.name,
            money(line.issued_minor, currency, locale),
            money(line.accepted_minor, currency, locale),
            money(line.net_minor, currency, locale),
        ]
        for (_, w), text in zip(columns, cells, strict=True):
            pdf.cell(w, 5, text)
        pdf.ln()
    pdf.ln(4)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(width, 6, t["transfers"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    names = {line.business_id: line.name for line in statement.lines}
    if not statement.transfers:
        pdf.multi_cell(width, 5, t["none"], new_x="LMARGIN", new_y="NEXT")
    for debtor, creditor, amount in statement.transfers:
        text = f"{names[debtor]} {t['pays']} {names[creditor]}: {money(amount, currency, locale)}"
        pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
