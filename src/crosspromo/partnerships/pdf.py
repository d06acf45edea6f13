"""A proposal as a one-page PDF the owner can print or send: both profiles, then each option.

Up to 3 options always fit one A4 page: the page is laid out at the largest of a few densities
that fits, long texts cut with an ellipsis. 4 or 5 options use the densest setting and may spill
onto a second page. Labels come from the small dictionary below (en, ru) rather than the Babel
catalogue, so the PDF needs no request context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision

from crosspromo.businesses import categories
from crosspromo.businesses.models import Business
from crosspromo.web.fonts import font_path

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "DejaVu"
PT = 25.4 / 72
PAGE_W, MARGIN = 210.0, 12.0
WIDTH = PAGE_W - 2 * MARGIN

_EN = {
    "heading": "Partnership proposal",
    "version": "version {n}",
    "from": "From",
    "to": "To",
    "category": "Category",
    "where": "Address",
    "price": "Price level",
    "price_value": "{n} of 4",
    "check": "Average check",
    "contacts": "Contacts",
    "message": "Message",
    "options": "Options",
    "gives": "Gives",
    "gets": "Gets",
    "expected": "Expected result",
    "responsible": "Responsible",
    "staff_script": "Staff say",
    "motivation": "Staff motivation",
    "dates": "Dates",
    "open": "open-ended",
    "payment": "Payment",
    "tracking": "Tracking",
    "resources": "Resources",
    "exchanges": "Exchanges",
    "per_month": "{n} per month",
    "indicators": "Indicators",
    "lead_handoff": "Lead hand-off",
    "data_sharing": "Data shared",
    "proposer": "proposer",
    "partner": "partner",
    # mechanics
    "joint_promotion": "Joint promotion",
    "joint_advertising": "Joint advertising",
    "audience_exchange": "Audience exchange",
    "staff_recommendations": "Staff recommendations",
    "coalition_points": "Coalition points",
    "co_branding": "Co-branding",
    "event": "Joint event",
    "coalition": "Coalition membership",
    # payment models
    "barter": "Barter, no money changes hands",
    "per_click": "{money} per click",
    "per_lead": "{money} per lead",
    "per_sale_percent": "{percent}% of each sale",
    "per_sale_fixed": "{money} per sale",
    "fixed_fee": "Fixed fee {money}",
    "revenue_share": "{percent}% revenue share",
    "staff_reward": "{money} reward to staff per sale",
    # data sharing
    "none": "none",
    "aggregates": "aggregates only",
    "consented_contacts": "contacts of customers who consented",
}
_RU = {
    "heading": "Предложение о партнёрстве",
    "version": "версия {n}",
    "from": "От",
    "to": "Кому",
    "category": "Категория",
    "where": "Адрес",
    "price": "Уровень цен",
    "price_value": "{n} из 4",
    "check": "Средний чек",
    "contacts": "Контакты",
    "message": "Сообщение",
    "options": "Варианты",
    "gives": "Даёт",
    "gets": "Получает",
    "expected": "Ожидаемый результат",
    "responsible": "Ответственный",
    "staff_script": "Что говорит персонал",
    "motivation": "Мотивация персонала",
    "dates": "Сроки",
    "open": "без срока",
    "payment": "Оплата",
    "tracking": "Учёт результата",
    "resources": "Ресурсы",
    "exchanges": "Обмены",
    "per_month": "{n} в месяц",
    "indicators": "Показатели",
    "lead_handoff": "Передача лидов",
    "data_sharing": "Обмен данными",
    "proposer": "инициатор",
    "partner": "партнёр",
    "joint_promotion": "Совместная акция",
    "joint_advertising": "Совместная реклама",
    "audience_exchange": "Обмен аудиторией",
    "staff_recommendations": "Рекомендации персонала",
    "coalition_points": "Коалиционные баллы",
    "co_branding": "Кобрендинг",
    "event": "Совместное мероприятие",
    "coalition": "Членство в коалиции",
    "barter": "Бартер, без денег",
    "per_click": "{money} за клик",
    "per_lead": "{money} за лида",
    "per_sale_percent": "{percent}% с каждой продажи",
    "per_sale_fixed": "{money} за продажу",
    "fixed_fee": "Фиксированная плата {money}",
    "revenue_share": "{percent}% от выручки",
    "staff_reward": "{money} персоналу за продажу",
    "none": "нет",
    "aggregates": "только сводные цифры",
    "consented_contacts": "контакты клиентов, давших согласие",
}
LABELS = {"en": _EN, "ru": _RU}


@dataclass(frozen=True)
class _Density:
    base: float  # pt
    side_lines: int  # most lines of one side's gives/gets/expected result
    other_lines: int  # most lines of the other option fields
    profile_lines: int  # most lines of a profile description


DENSITIES = (
    _Density(9.0, 4, 3, 3),
    _Density(8.0, 3, 2, 2),
    _Density(7.0, 2, 2, 2),
    _Density(6.5, 2, 1, 1),
)


def money(minor: int | None, currency: str | None, locale: str) -> str:
    """Integer minor units as money in `locale`, e.g. 45 000,00 ₽."""
    if minor is None or not currency:
        return ""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


class _Page:
    def __init__(self, locale: str, density: _Density) -> None:
        self.locale = locale if locale in LABELS else "en"
        self.t = LABELS[self.locale]
        self.d = density
        from fpdf import FPDF  # here, not at start-up: see crosspromo.app

        pdf = FPDF(unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=MARGIN)
        pdf.add_font(FONT, "", str(font_path()))
        pdf.add_font(FONT, "B", str(font_path(bold=True)))
        pdf.set_creator("crosspromo")
        pdf.add_page()
        self.pdf = pdf

    def size(self, step: float = 0) -> float:
        return self.d.base + step

    def clip(
        self, text: str, width: float, most: int, style: str = "", step: float = 0
    ) -> list[str]:
        """`text` wrapped to `width` in at most `most` lines, ellipsised when cut."""
        from fpdf.enums import MethodReturnValue

        pdf = self.pdf
        pdf.set_font(FONT, style, self.size(step))
        lines: list[str] = []
        for paragraph in text.strip().splitlines():
            if paragraph.strip():
                got = pdf.multi_cell(
                    width, text=paragraph, dry_run=True, output=MethodReturnValue.LINES
                )
                lines += [str(line) for line in got]  # type: ignore[union-attr]
        if len(lines) > most:
            last = lines[most - 1].rstrip()
            while last and pdf.get_string_width(last + "…") > width:
                last = last[:-1].rstrip()
            lines = lines[: most - 1] + [last + "…"]
        return lines

    def line_h(self, step: float = 0) -> float:
        return self.size(step) * PT * 1.25

    def room(self, height: float) -> None:
        """Start a new page when `height` more millimetres would not fit."""
        if self.pdf.get_y() + height > self.pdf.h - MARGIN:
            self.pdf.add_page()

    def lines_at(
        self, x: float, y: float, lines: list[str], style: str = "", step: float = 0
    ) -> float:
        pdf = self.pdf
        pdf.set_font(FONT, style, self.size(step))
        for line in lines:
            pdf.text(x, y + self.size(step) * PT, line)
            y += self.line_h(step)
        return y

    def rule(self, y: float, gray: int = 190) -> None:
        self.pdf.set_draw_color(gray)
        self.pdf.set_line_width(0.2)
        self.pdf.line(MARGIN, y, PAGE_W - MARGIN, y)

    # --- parts of the page -------------------------------------------------------------

    def header(self, sender: Business, partner: Business, version: int) -> None:
        t, pdf = self.t, self.pdf
        pdf.set_font(FONT, "B", self.size(6))
        pdf.text(MARGIN, MARGIN + self.size(6) * PT, t["heading"])
        after = MARGIN + pdf.get_string_width(t["heading"] + "  ")
        pdf.set_font(FONT, "", self.size())
        pdf.set_text_color(100)
        pdf.text(after, MARGIN + self.size(6) * PT, t["version"].format(n=version))
        pdf.set_text_color(0)
        y = MARGIN + self.size(6) * PT * 1.4
        lines = self.clip(f"{sender.name} → {partner.name}", WIDTH, 2, "B", 2)
        pdf.set_y(self.lines_at(MARGIN, y, lines, "B", 2) + 1)

    def profiles(self, sender: Business, partner: Business) -> None:
        t, pdf = self.t, self.pdf
        gap = 6.0
        col = (WIDTH - gap) / 2
        top = pdf.get_y() + 1
        bottoms = []
        for i, (role, b) in enumerate(((t["from"], sender), (t["to"], partner))):
            x = MARGIN + i * (col + gap)
            y = self.lines_at(x, top, [role.upper()], "", -1.5)
            y = self.lines_at(x, y, self.clip(b.name, col, 2, "B", 1), "B", 1)
            category = categories.get(b.category)
            rows = [
                (t["category"], category.name(self.locale) if category else b.category),
                (t["where"], ", ".join(p for p in (b.address, b.city) if p)),
                (t["price"], t["price_value"].format(n=b.price_tier) if b.price_tier else ""),
                (t["check"], money(b.avg_check_minor, b.currency, self.locale)),
                (t["contacts"], " · ".join(p for p in (b.phone, b.email) if p)),
            ]
            for label, value in rows:
                if value:
                    y = self.lines_at(x, y, self.clip(f"{label}: {value}", col, 2))
            if b.description:
                pdf.set_text_color(70)
                y = self.lines_at(x, y, self.clip(b.description, col, self.d.profile_lines))
                pdf.set_text_color(0)
            bottoms.append(y)
        bottom = max(bottoms) + 1.5
        pdf.set_draw_color(190)
        pdf.line(MARGIN + col + gap / 2, top, MARGIN + col + gap / 2, bottom - 1)
        self.rule(bottom)
        pdf.set_y(bottom + 1.5)

    def message(self, text: str) -> None:
        if not text.strip():
            return
        y = self.pdf.get_y()
        y = self.lines_at(MARGIN, y, [self.t["message"]], "B")
        self.pdf.set_text_color(50)
        y = self.lines_at(MARGIN, y, self.clip(text, WIDTH, self.d.other_lines + 1))
        self.pdf.set_text_color(0)
        self.rule(y + 1)
        self.pdf.set_y(y + 2.5)

    def option(self, number: int, o: dict[str, Any], sender: Business, partner: Business) -> None:
        t, pdf, d = self.t, self.pdf, self.d
        label_w = 34.0
        col = (WIDTH - label_w - 4) / 2
        mechanic = t.get(o.get("mechanic", ""), o.get("mechanic", ""))
        heading = self.clip(f"{number}. {o.get('title', '')} — {mechanic}", WIDTH, 2, "B", 1)
        self.room(len(heading) * self.line_h(1) + 6 * self.line_h())
        y = self.lines_at(MARGIN, self.pdf.get_y(), heading, "B", 1)

        facts = [f"{t['dates']}: {self.dates(o)}", f"{t['payment']}: {self.payment(o, sender)}"]
        pdf.set_text_color(60)
        y = self.lines_at(MARGIN, y, self.clip(" · ".join(facts), WIDTH, 2))
        pdf.set_text_color(0)

        # Both sides in two columns: the proposer (sender) and the partner.
        x1, x2 = MARGIN + label_w, MARGIN + label_w + col + 4
        pdf.set_text_color(90)
        names = [
            self.clip(f"{sender.name} ({t['proposer']})", col, 1, "B", -0.5),
            self.clip(f"{partner.name} ({t['partner']})", col, 1, "B", -0.5),
        ]
        self.lines_at(x1, y, names[0], "B", -0.5)
        pdf.set_y(self.lines_at(x2, y, names[1], "B", -0.5))
        pdf.set_text_color(0)
        sides = (o.get("proposer") or {}, o.get("partner") or {})
        for key, most in (
            ("gives", d.side_lines),
            ("gets", d.side_lines),
            ("expected_result", d.side_lines - 1 or 1),
            ("responsible", 1),
            ("staff_script", d.other_lines - 1 or 1),
            ("motivation", 1),
        ):
            cells = [self.clip(str(side.get(key) or ""), col, most) for side in sides]
            if not any(cells):
                continue
            label = self.clip(t["expected" if key == "expected_result" else key], label_w - 1, 2)
            rows = max(len(label), *(len(c) for c in cells))
            self.room(rows * self.line_h())
            y = pdf.get_y()
            pdf.set_text_color(100)
            self.lines_at(MARGIN, y, label)
            pdf.set_text_color(0)
            self.lines_at(x1, y, cells[0])
            self.lines_at(x2, y, cells[1])
            pdf.set_y(y + rows * self.line_h())

        by = {"proposer": sender.name, "partner": partner.name}
        extras = [
            ("tracking", str(o.get("tracking") or "")),
            ("resources", str(o.get("resources") or "")),
            (
                "exchanges",
                "; ".join(
                    f"{e['what']} — {t['per_month'].format(n=e['per_month'])} ({by[e['by']]})"
                    for e in o.get("exchanges") or []
                ),
            ),
            (
                "indicators",
                "; ".join(
                    f"{i['name']}: {format_decimal(i['target'], locale=self.locale)} "
                    f"({by[i['by']]})"
                    for i in o.get("indicators") or []
                ),
            ),
            ("lead_handoff", str(o.get("lead_handoff") or "")),
            (
                "data_sharing",
                t.get(o.get("data_sharing") or "none", "")
                if o.get("data_sharing") not in (None, "none")
                else "",
            ),
        ]
        for key, value in extras:
            if not value.strip():
                continue
            lines = self.clip(value, WIDTH - label_w, d.other_lines)
            label = self.clip(t[key], label_w - 1, 2)
            self.room(max(len(lines), len(label)) * self.line_h())
            y = pdf.get_y()
            pdf.set_text_color(100)
            below = self.lines_at(MARGIN, y, label)
            pdf.set_text_color(0)
            pdf.set_y(max(below, self.lines_at(x1, y, lines)))
        self.rule(pdf.get_y() + 1, 220)
        pdf.set_y(pdf.get_y() + 2.5)

    def dates(self, o: dict[str, Any]) -> str:
        def show(value: Any) -> str:
            if not value:
                return "…"
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            return format_date(day, format="medium", locale=self.locale)

        if not o.get("starts_on") and not o.get("ends_on"):
            return self.t["open"]
        return f"{show(o.get('starts_on'))} — {show(o.get('ends_on'))}"

    def payment(self, o: dict[str, Any], sender: Business) -> str:
        model = str(o.get("payment_model") or "barter")
        currency = o.get("currency") or sender.currency
        percent = o.get("payment_percent")
        shown = format_decimal(Decimal(str(percent)), locale=self.locale) if percent else ""
        template = self.t.get(model, model)
        return template.format(
            money=money(o.get("payment_minor"), currency, self.locale), percent=shown
        )


def _render(
    density: _Density,
    sender: Business,
    partner: Business,
    message: str,
    options: list[dict[str, Any]],
    version: int,
    locale: str,
) -> FPDF:
    page = _Page(locale, density)
    page.header(sender, partner, version)
    page.profiles(sender, partner)
    page.message(message)
    for number, option in enumerate(options, 1):
        page.option(number, option, sender, partner)
    return page.pdf


def proposal_pdf(
    *,
    sender: Business,
    partner: Business,
    message: str,
    options: list[dict[str, Any]],
    version: int,
    locale: str = "en",
) -> bytes:
    """A printable PDF of one proposal version: one A4 page for up to 3 options."""
    tries = DENSITIES if len(options) <= 3 else DENSITIES[2:]
    pdf = _render(tries[0], sender, partner, message, options, version, locale)
    for density in tries[1:]:
        if pdf.pages_count == 1:
            break
        pdf = _render(density, sender, partner, message, options, version, locale)
    return bytes(pdf.output())
