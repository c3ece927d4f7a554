"""Throwaway databases: a SQLite file, or a uniquely named Postgres database dropped afterwards.

Runs share one Postgres server, so every test database gets a unique name.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_ENV = "LUMEN_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _asyncpg_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@asynccontextmanager
async def postgres_database(admin_url: str, prefix: str = "lumen_test") -> AsyncIterator[str]:
    """Create a fresh database on the server named by admin_url; yield its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def sqlite_url(directory: Path, name: str = "lumen.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


@asynccontextmanager
async def fresh_database(kind: str, postgres_admin: str | None, prefix: str = "lumen_test") -> AsyncIterator[str]:
    """A throwaway database of either kind: a SQLite file in a temp dir, or a Postgres one."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield sqlite_url(Path(tmp), f"{prefix}.db")
        return
    if not postgres_admin:
        raise ValueError(f"a Postgres database needs {POSTGRES_ENV} (or --postgres-url)")
    async with postgres_database(postgres_admin, prefix) as url:
        yield url
