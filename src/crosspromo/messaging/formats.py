"""Shop-side formats: a printable counter poster (A4) whose QR code opens an offer's referral
link, and the success-page block (`/r/<code>/embed`, framed by a partner's order-confirmation
page) whose button opens it; each visit is then logged and counted like any tracking link
(`/r/<code>`: the click log, the `click` touch of attribution, the link's paid-click rules)."""

from __future__ import annotations

import html
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.errors import Invalid, NotFound
from crosspromo.offers import codes
from crosspromo.offers.models import Code, CodeKind, Offer
from crosspromo.offers.printing import draw_qr
from crosspromo.offers.referrals import display_code
from crosspromo.web.fonts import FONT, a4_document

MARGIN = 15.0
QR_SIDE = 120.0
MAX_HEADLINE = 120
LINKS_SHOWN = 100
WORDS = {
    "en": {"scan": "Scan the code with your phone's camera", "or": "or open"},
    "ru": {"scan": "Наведите камеру телефона на код", "or": "или откройте"},
}


def link_of(session: Session, business_id: uuid.UUID, link: str) -> tuple[Code, Offer]:
    """The business's referral link with this code (any spelling); NotFound otherwise."""
    found = session.execute(
        select(Code, Offer)
        .join(Offer, Offer.id == Code.offer_id)
        .where(
            Code.code == codes.normalize(link)[:64],
            Code.kind == CodeKind.link,
            Offer.issuer_business_id == business_id,
        )
        .order_by(Code.created_at, Code.id)
        .limit(1)
    ).first()
    if found is None:
        raise NotFound("No such referral link of this business.")
    return found.Code, found.Offer


def referral_links(session: Session, business_id: uuid.UUID) -> list[tuple[str, str]]:
    """The business's referral links as (code as people read it, offer title), newest first."""
    rows = session.execute(
        select(Code, Offer)
        .join(Offer, Offer.id == Code.offer_id)
        .where(Code.kind == CodeKind.link, Offer.issuer_business_id == business_id)
        .order_by(Code.created_at.desc(), Code.id)
        .limit(LINKS_SHOWN)
    ).all()
    return [(display_code(row.Code, row.Offer), row.Offer.title) for row in rows]


def success_snippet(
    session: Session, *, business_id: uuid.UUID, link: str, public_url: str
) -> dict[str, str]:
    """The iframe a partner puts on its order-confirmation page to show the offer's block."""
    code, offer = link_of(session, business_id, link)
    url = f"{public_url.rstrip('/')}/r/{display_code(code, offer)}/embed"
    title = html.escape(offer.title, quote=True)
    snippet = (
        f'<iframe src="{url}" title="{title}" width="100%" height="260" '
        'loading="lazy" referrerpolicy="no-referrer" style="border:0"></iframe>'
    )
    return {"url": url, "snippet": snippet}


def poster(
    session: Session,
    *,
    business_id: uuid.UUID,
    business_name: str,
    link: str,
    public_url: str,
    headline: str = "",
    locale: str = "en",
) -> bytes:
    """An A4 counter poster: the business, the offer, a large QR code of its referral link."""
    headline = headline.strip()
    if len(headline) > MAX_HEADLINE or any(ord(ch) < 32 for ch in headline):
        raise Invalid(f"At most {MAX_HEADLINE} characters on one line.", field="headline")
    code, offer = link_of(session, business_id, link)
    url = f"{public_url.rstrip('/')}/r/{display_code(code, offer)}"
    words = WORDS.get(locale, WORDS["en"])
    pdf = a4_document(headline or offer.title, MARGIN)
    width = pdf.w - 2 * MARGIN
    pdf.set_font(FONT, "B", 20)
    pdf.multi_cell(width, 10, business_name, align="C")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 30)
    pdf.multi_cell(width, 14, headline or offer.title, align="C")
    if offer.description:
        pdf.ln(2)
        pdf.set_font(FONT, "", 14)
        pdf.multi_cell(width, 7, offer.description[:400], align="C")
    pdf.ln(6)
    top = pdf.get_y()
    draw_qr(pdf, url, (pdf.w - QR_SIDE) / 2, top, QR_SIDE)
    pdf.set_y(top + QR_SIDE + 6)
    pdf.set_font(FONT, "", 14)
    pdf.multi_cell(width, 7, words["scan"], align="C")
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(width, 6, f"{words['or']} {url}", align="C")
    return bytes(pdf.output())
