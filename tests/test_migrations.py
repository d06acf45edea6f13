"""`crosspromo db downgrade base` then `db upgrade` on both engines, with data in the tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli
from crosspromo.db import Base, make_engine
from crosspromo.settings import Settings, get_settings
from tests.conftest import make_owner


@pytest.fixture
def configured(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = settings.resolved_database_url()
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _state(url: str) -> tuple[set[str], str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
            version = None
            if inspect(conn).has_table("alembic_version"):
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    return tables, version


def test_downgrade_to_base_then_upgrade_to_head(db: Session, configured: str) -> None:
    make_owner(db, "owner@example.com", "Bakery")
    db.close()
    tables, head = _state(configured)
    assert set(Base.metadata.tables) <= tables and head is not None
    runner = CliRunner()

    kept = runner.invoke(cli, ["db", "downgrade", "base"], input="n\n")
    assert kept.exit_code != 0 and _state(configured) == (tables, head)

    down = runner.invoke(cli, ["db", "downgrade", "base", "--yes"])
    assert down.exit_code == 0, down.output
    left, version = _state(configured)
    assert left == set() and version is None

    up = runner.invoke(cli, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert _state(configured) == (tables, head)
