"""Alembic environment: the URL comes from the caller's config or the settings."""

from __future__ import annotations

from alembic import context

from crosspromo.db import Base, make_engine
from crosspromo.models import load_all
from crosspromo.settings import get_settings

load_all()
config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
