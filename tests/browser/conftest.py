"""A real uvicorn on a free port with a fresh SQLite database, and Debian's Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "crosspromo", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    var = tmp_path_factory.mktemp("browser-var")
    env = {
        **os.environ,
        "CROSSPROMO_VAR_DIR": str(var),
        "CROSSPROMO_DATABASE_URL": f"sqlite:///{var / 'app.db'}",
        "CROSSPROMO_SECRET_KEY": "browser-test",
    }
    port = _free_port()
    srv = Server(url=f"http://127.0.0.1:{port}", env=env)
    srv.cli("db", "upgrade")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "crosspromo.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90  # a loaded CI machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(srv.url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(
            "server did not start: " + (proc.stderr.read() or b"").decode() if proc.stderr else ""
        )
    yield srv
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed; `make test` installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    context.close()
    assert blocked == [], blocked  # every page satisfies its Content-Security-Policy


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


LIVE_TITLE = "Coffee and croissant weeks"


def live_campaign(server: Any, slug: str) -> dict[str, Any]:
    """The demo's running promotion as `campaigns list --json` prints it for `slug` (one JSON
    object a line; the demo also has a past, measured promotion)."""
    out = server.cli("campaigns", "list", "--business", slug, "--json")
    listed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return next(c for c in listed if c["title"] == LIVE_TITLE)
