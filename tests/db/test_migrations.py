"""Migrating a blank database yields exactly the schema the models declare, plus the search
structures the migrations own (FTS5 and its triggers on SQLite, a GIN index on Postgres)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from lumen.db.migrate import alembic_config, current_revision, include_object, upgrade
from lumen.db.models import Agent, Base, Decision, Run, RunTrigger, Venture
from lumen.db.session import Database
from tests.support.databases import sqlite_url

CONCEPT_TABLES = {
    "ventures", "agents", "runs", "steps", "decisions", "gate_policy_versions", "approvals",
    "approval_votes", "outcomes", "brain_versions", "platform_insights", "spend", "outbox",
    "slack_event_receipts", "human_questions",
}
FTS_TRIGGERS = {"decisions_fts_insert", "decisions_fts_delete", "decisions_fts_update"}


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


async def _schema(db: Database) -> dict[str, Any]:
    """Tables, their indexes, and (SQLite) every trigger and virtual table, by name."""
    async with db.engine.connect() as conn:
        def read(sync: Any) -> dict[str, Any]:
            inspector = inspect(sync)
            tables = sorted(inspector.get_table_names())
            return {
                "tables": tables,
                "indexes": {t: sorted(i["name"] for i in inspector.get_indexes(t)) for t in tables},
            }

        schema = await conn.run_sync(read)
        if db.dialect == "sqlite":
            rows = await conn.exec_driver_sql("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'table')")
            schema["sqlite_master"] = sorted(tuple(r) for r in rows)
        else:
            rows = await conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'decisions'")
            schema["pg_indexes"] = dict(rows.all())
        schema["versions"] = [r[0] for r in await conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    return schema


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
    assert await current_revision(db.engine) == _head()


async def test_the_search_structures_exist_and_follow_every_write(db: Database) -> None:
    """The FTS table and its triggers (SQLite), or the stored tsvector and its GIN index
    (Postgres), are what Ask's retrieval stands on; they are outside the models, so they are
    checked here. Words are kept as written (migration 0005): "adding" is not "ads"."""
    schema = await _schema(db)
    if db.dialect == "sqlite":
        names = {name for _, name in schema["sqlite_master"]}
        assert "decisions_fts" in names and FTS_TRIGGERS <= names
    else:
        definition = schema["pg_indexes"]["ix_decisions_search"]
        assert "USING gin" in definition and "search_vector" in definition
    assert "ix_decisions_created" in schema["indexes"]["decisions"]

    async def found(word: str) -> list[int]:
        async with db.sessions() as session:
            if db.dialect == "sqlite":
                query = text("SELECT rowid FROM decisions_fts WHERE decisions_fts MATCH :q ORDER BY rowid")
            else:
                query = text("SELECT id FROM decisions WHERE search_vector @@ to_tsquery('simple', :q) ORDER BY id")
            return list((await session.execute(query, {"q": word})).scalars())

    async with db.transaction() as session:
        venture = Venture(slug="acme", name="Acme", stage="idea", channel="venture-acme")
        session.add(venture)
        await session.flush()
        agent = Agent(venture_id=venture.id, role="ceo", schedule="0 9 * * 1", budget_usd_month=10)
        session.add(agent)
        await session.flush()
        run = Run(agent_id=agent.id, venture_id=venture.id, trigger=RunTrigger.MANUAL, idempotency_key="k")
        session.add(run)
        await session.flush()
        decision = Decision(
            run_id=run.id, venture_id=venture.id, agent_id=agent.id, category="pricing_change",
            title="Launch an annual plan", rationale="Churn is seasonal",
        )
        session.add(decision)
    assert await found("annual") == [decision.id]
    assert await found("pricing") == [decision.id]  # the category's words, underscores split
    assert await found("churn") == [decision.id]  # the rationale too
    assert await found("annuals") == [] and await found("annu") == []  # whole words, not stems
    async with db.transaction() as session:
        await session.execute(update(Decision).where(Decision.id == decision.id).values(title="Launch a webinar series"))
    assert await found("annual") == [] and await found("webinar") == [decision.id]
    async with db.transaction() as session:
        await session.execute(Decision.__table__.delete().where(Decision.id == decision.id))
    assert await found("webinar") == []


async def test_upgrading_again_changes_nothing(db: Database) -> None:
    """Every replica migrates on start: a second upgrade of a current database is a no-op."""
    async with db.transaction() as session:
        session.add(Venture(slug="acme", name="Acme", stage="idea", channel="venture-acme"))
    before = await _schema(db)
    await upgrade(db.engine)
    await upgrade(db.engine)
    assert await _schema(db) == before
    assert before["versions"] == [_head()]
    async with db.sessions() as session:
        assert (await session.scalars(select(Venture.slug))).all() == ["acme"]


async def test_every_revision_has_a_downgrade_back_to_blank(database_url: str) -> None:
    """Down to nothing and up again: a bad release can be rolled back, and the search
    structures do not outlive their migration."""
    from alembic import command

    db = Database(database_url)
    try:
        await upgrade(db.engine)

        def down(connection: Any) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with db.engine.begin() as conn:
            await conn.run_sync(down)
        schema = await _schema(db)
        assert set(schema["tables"]) <= {"alembic_version"}
        assert schema["versions"] == []
        await upgrade(db.engine)
        assert await current_revision(db.engine) == _head()
    finally:
        await db.dispose()


async def test_foreign_keys_are_enforced(db: Database) -> None:
    """SQLite needs a PRAGMA per connection for this; Postgres does it always. Both must refuse."""
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(Agent(venture_id=987654, role="ceo", schedule="0 9 * * 1", budget_usd_month=10))


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    """What lets one SQLite writer and many readers share the file (SQLite only, by nature)."""
    database = Database(sqlite_url(tmp_path))
    try:
        await upgrade(database.engine)
        async with database.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        await database.dispose()
