"""The printable counter poster: an A4 PDF whose QR code decodes to the referral link."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli_app
from crosspromo.offers.models import Code, CodeKind
from crosspromo.offers.printing import qr_runs
from crosspromo.settings import get_settings
from tests.campaigns.conftest import agreed, key  # noqa: F401  (fixtures for agree)
from tests.offers.conftest import make_offer, running  # noqa: F401
from tests.offers.partners import agree


def _linked(client: TestClient, db: Session) -> tuple[dict[str, Any], str]:
    p = agree(client, db)
    offer = make_offer(client, p, p["campaign_id"])
    made = client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "link", "label": "counter"},
    )
    assert made.status_code == 201, made.text
    code = db.scalar(select(Code.code).where(Code.kind == CodeKind.link))
    assert code is not None
    return p, code


def test_counter_poster_from_api_and_cli(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    p, code = _linked(client, db)
    bakery = p["bakery"]
    url = f"/api/v1/businesses/{bakery.id}/poster.pdf"
    got = client.get(url, params={"link": code, "locale": "ru"}, headers=p["bakery_manager"])
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(got.content)).pages
    assert len(pages) == 1
    text = pages[0].extract_text()
    assert "Наведите камеру" in text and "/r/" in text
    target = text.split("откройте", 1)[1].split()[0]
    assert target.startswith("http") and qr_runs(target)[0] > 20

    # another business's link, a code that is not a link, a bad headline: clear refusals
    cafe = p["cafe"]
    other = client.get(
        f"/api/v1/businesses/{cafe.id}/poster.pdf",
        params={"link": code},
        headers=p["cafe_owner"],
    )
    assert other.status_code == 404  # the cafe honours the offer; the link is the bakery's
    missing = client.get(url, params={"link": "NOPE-NOPE"}, headers=p["bakery_manager"])
    assert missing.status_code == 404
    bad = client.get(url, params={"link": code, "headline": "a\x07b"}, headers=p["bakery_manager"])
    assert bad.status_code == 422

    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", str(db.get_bind().url.render_as_string(False)))
    get_settings.cache_clear()
    out = tmp_path / "poster.pdf"
    try:
        ran = CliRunner().invoke(
            cli_app,
            ["messages", "poster", "--business", bakery.slug, "--link", code, "--out", str(out)],
        )
    finally:
        get_settings.cache_clear()
    assert ran.exit_code == 0, ran.output
    assert out.read_bytes().startswith(b"%PDF")


def test_success_page_block_is_framable_and_leads_to_the_link(
    client: TestClient, db: Session
) -> None:
    p, code = _linked(client, db)
    got = client.get(
        f"/api/v1/businesses/{p['bakery'].id}/success-block",
        params={"link": code},
        headers=p["bakery_manager"],
    )
    assert got.status_code == 200, got.text
    url, snippet = got.json()["url"], got.json()["snippet"]
    assert url.endswith("/embed") and f'src="{url}"' in snippet and "<iframe" in snippet
    path = "/" + url.split("/", 3)[3]
    block = client.get(path, headers={"accept-language": "ru"})
    assert block.status_code == 200
    policy = block.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy
    assert "x-frame-options" not in block.headers
    assert block.headers["referrer-policy"] == "no-referrer"
    assert "Получить предложение" in block.text
    target = path.removesuffix("/embed")
    assert f'href="http://testserver{target}"' in block.text
    # the landing page itself stays unframable; an unknown code's block is not found
    landing = client.get(target)
    assert "frame-ancestors 'none'" in landing.headers["content-security-policy"]
    assert client.get("/r/NOPE-NOPE-NOPE/embed").status_code == 404
    # the button's visit is logged like any referral click
    db.expire_all()
    assert db.scalar(select(Code.clicks).where(Code.kind == CodeKind.link)) == 1


def test_formats_page_shows_the_poster_the_snippet_and_a_live_preview(
    client: TestClient, db: Session
) -> None:
    from tests.conftest import sign_in

    p, code = _linked(client, db)
    bakery = p["bakery"]
    sign_in(client, "a@example.com")
    client.cookies.set("locale", "ru")
    base = f"/b/{bakery.id}/messages"
    overview = client.get(base)
    assert f'href="{base}/formats"' in overview.text and f'href="{base}/calendar"' in overview.text
    shown = client.get(f"{base}/formats")
    assert shown.status_code == 200
    assert "Плакат и блок для страницы заказа" in shown.text
    # the page itself stays unframable; its preview frames the block from this site
    assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]
    preview = shown.text.split('class="embed-preview"')[0].rsplit("<iframe", 1)[1]
    path = preview.split('src="', 1)[1].split('"', 1)[0]
    assert path.startswith("/r/") and path.endswith("/embed")
    snippet = shown.text.split("<textarea", 1)[1].split("</textarea>", 1)[0]
    assert "&lt;iframe src=&#34;http" in snippet and f"{path}&#34;" in snippet  # to copy
    block = client.get(path)
    assert (
        block.status_code == 200 and "frame-ancestors *" in block.headers["content-security-policy"]
    )
    # the poster form asks the API with the browser's session
    poster = f"/api/v1/businesses/{bakery.id}/poster.pdf"
    assert f'action="{poster}"' in shown.text
    pdf = client.get(poster, params={"link": code, "locale": "ru"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the cafe has no links of its own: the page says so
    sign_in(client, "b@example.com")
    empty = client.get(f"/b/{p['cafe'].id}/messages/formats")
    assert empty.status_code == 200 and "реферальных ссылок" in empty.text
