"""What every CLI command shares: a unit of work on the configured database, and failing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.db import make_engine, make_sessionmaker, unit_of_work
from crosspromo.roles import Actor, Role
from crosspromo.settings import get_settings

err = Console(stderr=True)


@contextmanager
def engine_scope() -> Iterator[Engine]:
    engine = make_engine(get_settings().resolved_database_url())
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def session_scope() -> Iterator[Session]:
    with engine_scope() as engine, unit_of_work(make_sessionmaker(engine)) as session:
        yield session


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(code)


def business_by_slug(db: Session, slug: str) -> Business:
    """The business with this id (slug), or a clear error and exit code 1."""
    found = businesses.get_by_slug(db, slug.strip().lower())
    if found is None:
        fail(f"No business with id {slug!r}.")
    return found


def operator(business: Business) -> Actor:
    """The CLI runs on the server as the business's operator: its owner's rights, no more."""
    return Actor(key_business_id=business.id, key_role=Role.owner)
