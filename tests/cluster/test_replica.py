"""Reads go to a streaming replica when one is configured; writes and fresh reads do not.

A real hot standby of the test server (pg_basebackup, streaming): its replay is paused so that
a stale answer proves a read came from the replica, and a fresh one that it came from the
primary.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.app import create_app
from crosspromo.settings import Settings
from crosspromo.web.fresh_reads import FRESH_COOKIE
from tests.campaigns.conftest import key
from tests.conftest import PG_URL, make_owner

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def replica_port() -> Iterator[int]:
    if not PG_URL:
        pytest.skip("PostgreSQL not started (run `make test`)")
    primary = make_url(PG_URL).port
    port = free_port()
    # Under /tmp, not pytest's root-only temporary tree: the server runs as `postgres`.
    where = tempfile.mkdtemp(prefix="crosspromo-replica-")
    script = str(ROOT / "scripts" / "test-postgres.sh")
    subprocess.run([script, "replica", where, str(port), str(primary)], check=True)
    yield port
    subprocess.run([script, "stop", where], check=True)


@pytest.fixture
def engine_name() -> str:
    return "postgresql"


def on_replica(database_url: str, port: int) -> str:
    return make_url(database_url).set(port=port).render_as_string(hide_password=False)


def wait_for(predicate: Any, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def name_on(url: str, business_id: str) -> str | None:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT name FROM businesses WHERE id = :id"), {"id": business_id}
            ).scalar()
    except Exception:
        return None
    finally:
        engine.dispose()


def caught_up(primary_url: str, replica_url: str) -> bool:
    """The replica has replayed everything the primary wrote so far (the API key too)."""
    engines = [
        create_engine(make_url(u).set(drivername="postgresql+psycopg"))
        for u in (primary_url, replica_url)
    ]
    try:
        with engines[0].connect() as conn:
            # the insert position: the test server commits asynchronously, so WAL already
            # written by a commit may not have reached the write position yet
            lsn = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
        with engines[1].connect() as conn:
            behind = conn.execute(
                text("SELECT pg_wal_lsn_diff(CAST(:lsn AS pg_lsn), pg_last_wal_replay_lsn())"),
                {"lsn": lsn},
            ).scalar_one()
        return behind is not None and float(behind) <= 0
    except Exception:
        return False
    finally:
        for engine in engines:
            engine.dispose()


def test_reads_go_to_the_replica_and_writers_read_their_writes(
    db: Session, database_url: str, replica_port: int, tmp_path: Path
) -> None:
    replica_url = on_replica(database_url, replica_port)
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    owner = key(db, bakery, Role.owner)
    business_id = str(bakery.id)
    wait_for(lambda: caught_up(database_url, replica_url), "the replica to catch up")
    wait_for(lambda: name_on(replica_url, business_id) == "Bakery", "the business on the replica")

    settings = Settings(
        database_url=database_url,
        database_replica_url=replica_url,
        replica_max_lag_seconds=60,
        var_dir=tmp_path / "var",
        secret_key="test-secret",
    )
    app = create_app(settings)
    admin = create_engine(
        make_url(replica_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client, admin.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
            url = f"/api/v1/businesses/{business_id}"
            changed = client.patch(url, headers=owner, json={"name": "Bakery Two"})
            assert changed.status_code == 200, changed.text
            assert changed.json()["name"] == "Bakery Two"
            # The writer's cookie sends its next reads to the primary: it sees its write.
            assert FRESH_COOKIE in client.cookies
            assert client.get(url, headers=owner).json()["name"] == "Bakery Two"
            # Any other reader reads the replica, paused before the write: the old name.
            client.cookies.clear()
            stale = client.get(url, headers=owner)
            assert stale.json().get("name") == "Bakery", stale.text
            health = client.get("/healthz").json()
            assert health["replica"]["reads"] == "replica"
            assert health["replica"]["lag_seconds"] is not None

            # A replica further behind than allowed is skipped: reads go to the primary.
            app.state.replica.max_lag_seconds = 0.5
            time.sleep(1.6)
            assert client.get(url, headers=owner).json()["name"] == "Bakery Two"
            assert client.get("/healthz").json()["replica"]["reads"] == "primary"

            conn.execute(text("SELECT pg_wal_replay_resume()"))
            wait_for(lambda: name_on(replica_url, business_id) == "Bakery Two", "replay")
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
        admin.dispose()
        app.state.engine.dispose()
        if app.state.replica is not None:
            app.state.replica.dispose()


def test_an_unreachable_replica_sends_reads_to_the_primary(
    db: Session, database_url: str, tmp_path: Path
) -> None:
    _, bakery = make_owner(db, "a@example.com", "Bakery")
    owner = key(db, bakery, Role.owner)
    dead = make_url(database_url).set(port=free_port()).render_as_string(hide_password=False)
    app = create_app(
        Settings(
            database_url=database_url,
            database_replica_url=dead,
            var_dir=tmp_path / "var",
            secret_key="test-secret",
        )
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            got = client.get(f"/api/v1/businesses/{bakery.id}", headers=owner)
            assert got.status_code == 200 and got.json()["name"] == "Bakery"
            health = client.get("/healthz").json()
            assert health["replica"] == {"lag_seconds": None, "reads": "primary"}
    finally:
        app.state.engine.dispose()
        app.state.replica.dispose()
