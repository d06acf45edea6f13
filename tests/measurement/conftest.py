"""Shared fixtures for measurement tests: the CLI pointed at the test's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crosspromo.settings import Settings, get_settings


@pytest.fixture
def settings_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """CLI commands in this test read the test's database and secret."""
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CROSSPROMO_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()
