"""Migrating a blank database yields exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from lumen.db.migrate import current_revision, include_object, upgrade
from lumen.db.models import Base
from lumen.db.session import Database

CONCEPT_TABLES = {
    "ventures", "agents", "runs", "steps", "decisions", "gate_policy_versions", "approvals",
    "approval_votes", "outcomes", "brain_versions", "platform_insights", "spend", "outbox",
    "slack_event_receipts",
}


async def test_blank_database_migrates_to_the_models_exactly(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True, "include_object": include_object}),
                Base.metadata,
            )
        )
        tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    assert diff == []
    assert CONCEPT_TABLES <= tables


async def test_upgrade_is_idempotent(db: Database) -> None:
    await upgrade(db.engine)
    assert await current_revision(db.engine) is not None


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        return
    database = Database(database_url)
    try:
        async with database.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        await database.dispose()
