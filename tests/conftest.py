"""Fixtures: a fresh, migrated database per test on SQLite and PostgreSQL, an app, a client.

PostgreSQL runs when CROSSPROMO_TEST_PG_URL points at a server (`make test` starts one).
In CI (CI=true) a missing server is an error, not a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role, User
from crosspromo.app import create_app
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.businesses.schemas import BusinessCreate
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.migrate import upgrade
from crosspromo.settings import Settings

PG_URL = os.environ.get("CROSSPROMO_TEST_PG_URL", "")
ENGINES = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery"


def _worker(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _pg_admin() -> Any:
    return create_engine(
        make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest) -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but CROSSPROMO_TEST_PG_URL is not set: PostgreSQL must run")
        pytest.skip("PostgreSQL not started (run `make test`)")
    name = f"cp_tmpl_{_worker(request)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, copied from a per-worker template."""
    if engine_name == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"cp_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", secret_key="test-secret")


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.resolved_database_url())
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Any:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def make_owner(
    db: Session, email: str, business_name: str, category: str = "shop=bakery", **profile: Any
) -> tuple[User, Business]:
    """A user owning a new workspace with one business, built through the services."""
    user = accounts.create_user(db, email=email, password=PASSWORD)
    workspace = accounts.create_workspace(db, name=business_name, owner=user)
    business = businesses.create(
        db,
        workspace_id=workspace.id,
        data=BusinessCreate(name=business_name, category=category, **profile),
    )
    db.commit()
    return user, business


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    page = client.get("/signin")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/account/password")
    return home.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def two_tenants(db: Session) -> dict[str, Any]:
    user_a, biz_a = make_owner(db, "a@example.com", "Bakery A")
    user_b, biz_b = make_owner(db, "b@example.com", "Cafe B", category="amenity=cafe")
    return {"user_a": user_a, "a": biz_a, "user_b": user_b, "b": biz_b}


__all__ = ["PASSWORD", "Role", "make_owner", "sign_in"]
