"""`lumen db upgrade`: Alembic migrations, run on the engine Lumen uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
# Search structures live outside the ORM models (FTS5 tables, the stored tsvector and its index).
SEARCH_OBJECTS = ("decisions_fts", "ix_decisions_search", "search_vector")


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate and schema checks: ignore the search structures the migrations own."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe to run on every start, on every replica."""

    def _upgrade(connection) -> None:  # type: ignore[no-untyped-def]
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together must not migrate concurrently.
            await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7413021)")
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda c: MigrationContext.configure(c).get_current_revision()
        )
