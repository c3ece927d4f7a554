"""Engine and sessions for SQLite (embedded default) and Postgres (several replicas)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from lumen.errors import ConfigError, DatabaseUnreachable
from lumen.settings import normalize_database_url

SQLITE_BUSY_TIMEOUT_MS = 10_000

# `db.sessions`: what a service that reads around slow calls takes instead of one session.
SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


WRITE = "lumen_write"
READ = "lumen_read"
_writing: ContextVar[bool] = ContextVar("lumen_writing", default=False)
_READ_ONLY = ("SELECT", "WITH", "PRAGMA", "EXPLAIN")


def _sqlite_begin(conn: Any) -> None:
    options = conn.get_execution_options()
    if options.get(WRITE):
        # Writers take the write lock at BEGIN: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY instead of waiting when another writer got in between.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif not options.get(READ):
        conn.exec_driver_sql("BEGIN")  # migrations and other raw connections
    # Read sessions run without BEGIN: each SELECT is its own snapshot under WAL. Every
    # statement costs a round trip to aiosqlite's thread, and BEGIN plus its end were two
    # of the few a short read makes.


def _sqlite_reads_only(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    options = conn.get_execution_options()
    if options.get(READ) and not options.get(WRITE) and not statement.lstrip().upper().startswith(_READ_ONLY):
        # Without BEGIN a write here would commit statement by statement: refuse it.
        raise RuntimeError("a write in a read session: use Database.transaction()")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(sync_engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(sync_engine, "begin", _sqlite_begin)
        event.listen(sync_engine, "before_cursor_execute", _sqlite_reads_only)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    """One engine and its session factory. Services never commit; the edge does."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_database_url(url)
        self.engine = create_engine(self.url, **engine_kwargs)
        # `sessions()` is for reading; writes go through `transaction()`.
        self.sessions = async_sessionmaker(self.engine.execution_options(**{READ: True}), expire_on_commit=False)
        # SQLite has one writer at a time. Queueing this process's writers here is fair and
        # immediate; left to SQLite's busy handler they sleep and retry (p99 of seconds).
        self._writer = asyncio.Lock() if self.url.startswith("sqlite") else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one write transaction: committed on success, rolled back on error."""
        async with self._writer_turn(), self.sessions() as session, session.begin():
            await session.connection(execution_options={WRITE: True})
            yield session

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        if self._writer is None:
            yield
            return
        if _writing.get():
            # The lock is not re-entrant: waiting here would wait for ourselves forever.
            raise RuntimeError("a write transaction was opened inside another one")
        async with self._writer:
            token = _writing.set(True)
            try:
                yield
            finally:
                _writing.reset(token)

    @classmethod
    async def open(cls, url: str) -> Database:
        """A database that answers, or a one-line error: ConfigError for a URL that names no
        database Lumen can use, DatabaseUnreachable for one that does not answer."""
        try:
            db = cls(url)
        except Exception as exc:  # sqlalchemy's ArgumentError, a missing driver, a bad port
            raise ConfigError(f"LUMEN_DATABASE_URL is not a database URL Lumen can use: {str(exc).splitlines()[0][:200]}") from None
        try:
            await db.reach()
        except BaseException:
            await db.dispose()
            raise
        return db

    async def reach(self) -> None:
        """Connect once, or raise DatabaseUnreachable: one line saying where and why, for the
        operator who mistyped a host (not 50 frames of driver internals)."""
        url = make_url(self.url)
        where = url.render_as_string(hide_password=True)
        folder = Path(url.database).parent if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None
        if folder is not None and not folder.is_dir():
            # Said before trying: aiosqlite's failed connect would also leave a thread behind.
            raise DatabaseUnreachable(f"cannot reach the database at {where} (LUMEN_DATABASE_URL): the folder {folder} does not exist")
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            cause = getattr(exc, "orig", None) or exc
            reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
            raise DatabaseUnreachable(f"cannot reach the database at {where} (LUMEN_DATABASE_URL): {reason}") from None

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
