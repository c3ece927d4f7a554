"""Read sessions and write transactions: what each may do, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from lumen.db.models import Venture
from lumen.db.migrate import upgrade
from lumen.db.session import Database
from lumen.container import Container
from tests.support.databases import sqlite_url


async def test_a_transaction_commits_as_a_whole_or_not_at_all(container: Container) -> None:
    db = container.db
    async with db.sessions() as session:
        names = dict((await session.execute(select(Venture.slug, Venture.name))).all())

    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as session:
            await session.execute(update(Venture).values(name="renamed"))
            raise RuntimeError("boom")

    async with db.sessions() as session:
        assert dict((await session.execute(select(Venture.slug, Venture.name))).all()) == names


async def test_a_read_session_refuses_to_write_on_sqlite(tmp_path: Path) -> None:
    """SQLite read sessions run without BEGIN (a round trip less per read), so a write there
    would commit statement by statement: it is refused instead, and nothing changes."""
    db = Database(sqlite_url(tmp_path))
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            session.add(Venture(slug="acme", name="Acme", stage="idea", channel="venture-acme"))
        with pytest.raises(Exception, match="a write in a read session"):
            async with db.sessions() as session:
                await session.execute(update(Venture).values(name="renamed"))
        async with db.sessions() as session:
            assert await session.scalar(select(Venture.name)) == "Acme"
    finally:
        await db.dispose()
