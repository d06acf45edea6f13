"""Start-up imports little: heavy libraries load in the code that needs them, so workers
answer the supervisor's health check in time even on a busy 2-core machine."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from crosspromo.cli import app

HEAVY = ("statsmodels", "scipy", "pandas", "fpdf", "PIL", "segno", "icalendar")


def test_the_app_starts_without_heavy_libraries(tmp_path: object) -> None:
    code = (
        "import sys\n"
        "from crosspromo.app import create_app\n"
        "from crosspromo.settings import Settings\n"
        f"create_app(Settings(database_url='sqlite:///{tmp_path}/x.db', secret_key='k'))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout


def test_serve_gives_workers_time_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    assert CliRunner().invoke(app, ["serve", "--workers", "4"]).exit_code == 0
    assert CliRunner().invoke(app, ["serve", "--healthcheck-timeout", "9"]).exit_code == 0
    assert calls[0]["workers"] == 4 and calls[0]["timeout_worker_healthcheck"] == 60
    assert calls[1]["timeout_worker_healthcheck"] == 9
