"""The shipped Alembic migrations build exactly the schema the models declare, on SQLite and
PostgreSQL, and upgrading an up-to-date database again is harmless."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.core.db import make_engine, migrate
from api.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    """After `upgrade head`, autogenerate finds nothing left to migrate."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent: a restart migrates an up-to-date database
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() is not None
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()
