"""The campaign report: the figures match the services, the Russian PDF has Russian text, the
CSV carries the same numbers; reachable from the API, the CLI and the campaign page."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.measurement import attribution, charts, funnel, kpi, report, roi, uplift
from tests.conftest import sign_in

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _no_render(spec: dict[str, Any]) -> bytes:
    """A 1x1 PNG instead of the chart: these tests read text, not pictures."""
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )


def test_report_figures_match_the_services(db: Session, touched: dict[str, Any]) -> None:
    campaign_id = uuid.UUID(touched["campaign_id"])
    counted = funnel.funnel(db, campaign_id=campaign_id)
    # 3 unique codes; 2 visitors (an e-mailed link, the flyer); 1 redemption kept; p0 came back
    assert counted.as_dict() == {"issued": 3, "clicked": 2, "redeemed": 1, "came_back": 1}
    found = report.build(db, campaign_id=campaign_id, locale="en")
    assert found.funnel == funnel.funnel(db, campaign_id=campaign_id)
    for model in attribution.MODELS:
        expected = attribution.attribute(db, campaign_id=campaign_id, model=model)
        got = {(p, c): v for p, c, v in found.attribution[model]}
        assert got == {(r.partner, r.channel): r.conversions for r in expected.rows}
    assert (found.paths, found.converting_paths) == (4, 2)
    assert found.measured is not None and found.baseline is not None
    for business in (touched["bakery"], touched["cafe"]):
        spans = [clock.span(*found.baseline, business.timezone)]
        spans.append(clock.span(*found.measured, business.timezone))
        figures = kpi.figures_for(
            db, business_id=business.id, timezone=business.timezone, found=spans
        )
        before, after = figures[found.baseline], figures[found.measured]
        rows = {k.metric: (k.before, k.after) for k in found.kpis if k.business == business.name}
        assert rows == {m: (getattr(before, m), getattr(after, m)) for m, _, _ in report.KPI_ROWS}
    bakery = {k.metric: k.after for k in found.kpis if k.business == "Bakery"}
    assert (bakery["receipts"], bakery["revenue_minor"]) == (1, 50_000)
    assert found.goal.startswith("Receipts: increase by 10")

    measured = uplift.measure(db, campaign_id=campaign_id)
    assert found.measurement is not None and found.returns is not None
    assert found.measurement.conversion.as_json() == measured.conversion.as_json()
    assert found.measurement.revenue_per_customer.as_json() == (
        measured.revenue_per_customer.as_json()
    )
    returns = roi.roi(db, campaign_id=campaign_id, measured=measured)
    assert found.returns.as_json() == returns.as_json()

    rows = list(csv.DictReader(io.StringIO(report.csv_text(found))))
    csv_roi = {r["item"]: r["value"] for r in rows if r["section"] == "roi" and not r["business"]}
    assert int(csv_roi["net_minor"]) == returns.net_minor
    assert int(csv_roi["total_costs_minor"]) == returns.total_costs_minor
    diff = next(r for r in rows if r["item"] == "conversion.difference")
    assert float(diff["value"]) == pytest.approx(measured.conversion.difference)
    funnel_rows = {r["item"]: int(r["value"]) for r in rows if r["section"] == "funnel"}
    assert funnel_rows == found.funnel.as_dict() if found.funnel else {}
    markov = {
        (r["business"], r["channel"]): float(r["value"])
        for r in rows
        if r["section"] == "attribution" and r["model"] == "markov"
    }
    assert markov == {(p, c): v for p, c, v in found.attribution["markov"]}


def test_russian_pdf_with_real_charts(
    db: Session, touched: dict[str, Any], engine_name: str
) -> None:
    campaign_id = uuid.UUID(touched["campaign_id"])
    found = report.build(db, campaign_id=campaign_id, locale="ru")
    data = report.pdf(found)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"campaign-report-ru-{engine_name}.pdf").write_bytes(data)  # for review
    reader = PdfReader(io.BytesIO(data))
    images = sum(len(page.images) for page in reader.pages)
    assert images == len(report.chart_specs(found)) >= 2
    text = _pdf_text(data)
    for phrase in ("Отчёт по кампании", "Цель", "До и после", "Воронка", "Атрибуция"):
        assert phrase in text, phrase
    assert "Выручка" in text and "Марков" in text
    assert "Прирост" in text and "Окупаемость" in text and "Интервал 95 %" in text
    en = _pdf_text(
        report.pdf(report.build(db, campaign_id=campaign_id, locale="en"), render=_no_render)
    )
    assert "Campaign report" in en and "Отчёт" not in en
    assert "2 of 4 customer paths converted." in en


def test_api_cli_and_page(
    client: TestClient,
    touched: dict[str, Any],
    settings_env: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(charts, "png", _no_render)  # pictures are checked above
    cid = touched["campaign_id"]
    url = f"/api/v1/campaigns/{cid}/report"
    pdf = client.get(f"{url}.pdf", params={"lang": "ru"}, headers=touched["cafe_owner"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Воронка" in _pdf_text(pdf.content)
    got = client.get(f"{url}.csv", headers=touched["bakery_manager"])
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith(b"\xef\xbb\xbfsection,business,item")
    assert client.get(f"{url}.pdf", headers=touched["outsider_owner"]).status_code == 404
    assert (
        client.get(f"{url}.pdf", params={"lang": "de"}, headers=touched["cafe_owner"]).status_code
        == 422
    )

    from typer.testing import CliRunner

    from crosspromo.cli import app

    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(app, ["campaigns", "report", cid, "--lang", "ru", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Атрибуция" in _pdf_text(out.read_bytes())
    table = tmp_path / "report.csv"
    result = CliRunner().invoke(app, ["campaigns", "report", cid, "-o", str(table)])
    assert result.exit_code == 0, result.output
    assert "funnel,,came_back,,,,,1" in table.read_text(encoding="utf-8-sig")

    sign_in(client, "b@example.com")
    cafe = touched["cafe"].id
    show = client.get(f"/b/{cafe}/campaigns/{cid}")
    assert f'hx-get="/b/{cafe}/measurement/campaigns/{cid}"' in show.text
    section = client.get(f"/b/{cafe}/measurement/campaigns/{cid}", params={"model": "last"})
    assert section.status_code == 200
    assert (
        'data-chart="chart-funnel-last"' in section.text
        and 'data-chart="chart-attribution-last"' in section.text
    )
    assert '<option value="last" selected>' in section.text
    assert client.get(f"/b/{cafe}/measurement/campaigns/{cid}/report.pdf").status_code == 200
    other = client.get(f"/b/{touched['outsider'].id}/measurement/campaigns/{cid}")
    assert other.status_code in (403, 404)
