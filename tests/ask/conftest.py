"""Fixtures for the Ask Lumen tests: the generated history on both databases, fast.

The history is built once per session and database (migrations, lumen.yml, ~265 decisions)
into a template: a SQLite file that each test copies, or a Postgres database each test clones
with CREATE DATABASE … TEMPLATE. Every test gets its own copy, so nothing leaks between them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from lumen.slack.directory import SlackDirectory
from lumen.config import LumenConfig
from lumen.settings import Settings
from lumen.db.migrate import upgrade
from lumen.db.session import Database
from lumen.container import Container
from lumen.runtime import build_container
from lumen.ventures.sync import sync_config
from tests.ask import history as first_history
from tests.ask.quality import history as quality_history
from tests.ask.history import MEMBERS, NOW, Planned, write_history
from tests.support.databases import _asyncpg_dsn, postgres_admin_url, sqlite_url


@dataclass(frozen=True)
class Source:
    """A generated history: its plan, its lumen.yml and who is in which channel."""

    name: str
    generate: Callable[[datetime], list[Any]]
    config: Callable[[], LumenConfig]
    write: Callable[..., Any]
    config_yaml: str
    members: dict[str, set[str]]


FIRST = Source("first", first_history.generate, first_history.history_config, first_history.write_history,
               first_history.CONFIG_YAML, first_history.MEMBERS)


class ChannelMembers(SlackDirectory):
    """The directory as Slack would answer it for the history's channels."""

    def __init__(self, members: dict[str, set[str]] | None = None) -> None:
        super().__init__(None)
        self.channel_members = members if members is not None else MEMBERS

    async def _channel(self, channel: str) -> list[str]:
        return sorted(self.channel_members.get(channel, set()))


@dataclass
class History:
    """One test's copy of the generated history."""

    url: str
    db: Database
    container: Container
    plans: list[Planned]
    ids: dict[str, int]  # decision id by plan key
    now: datetime
    config_path: Path

    def id_of(self, plan: Planned) -> int:
        return self.ids[plan.key]

    def ids_where(self, predicate: Callable[[Planned], bool]) -> set[int]:
        return {self.ids[p.key] for p in self.plans if predicate(p)}

    def plan_of(self, decision_id: int) -> Planned:
        return next(p for p in self.plans if self.ids[p.key] == decision_id)


def _in_thread(factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion on a fresh loop in a helper thread (fixtures are sync here)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def _build(url: str, config: LumenConfig, plans: list[Planned], write: Callable[..., Any] = write_history) -> dict[str, int]:
    db = Database(url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            await sync_config(session, config)
            return await write(session, plans)
    finally:
        await db.dispose()


class Templates:
    """Built histories by (backend, now), made on first use and removed at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.built: dict[tuple[str, datetime, str], tuple[str, list[Planned], dict[str, int]]] = {}
        self.pg_names: list[str] = []

    def get(self, backend: str, now: datetime, source: Source = FIRST) -> tuple[str, list[Planned], dict[str, int]]:
        key = (backend, now, source.name)
        if key not in self.built:
            plans = source.generate(now)
            config = source.config()
            if backend == "sqlite":
                path = self.directory / f"history-{len(self.built)}.db"
                ids = _in_thread(lambda: _build(sqlite_url(path.parent, path.name), config, plans, source.write))
                self.built[key] = (str(path), plans, ids)
            else:
                admin = postgres_admin_url()
                assert admin is not None
                name = f"lumen_ask_tmpl_{uuid.uuid4().hex[:10]}"
                _in_thread(lambda: _pg(admin, f'CREATE DATABASE "{name}"'))
                self.pg_names.append(name)
                url = make_url(admin).set(drivername="postgresql+asyncpg", database=name)
                ids = _in_thread(lambda: _build(url.render_as_string(hide_password=False), config, plans, source.write))
                self.built[key] = (name, plans, ids)
        return self.built[key]

    def close(self) -> None:
        admin = postgres_admin_url()
        for name in self.pg_names:
            _in_thread(lambda name=name: _pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    built = Templates(tmp_path_factory.mktemp("ask-templates"))
    try:
        yield built
    finally:
        built.close()


def history_settings(url: str, config_path: Path, **extra: Any) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN="xoxb-dev-token",
        SLACK_SIGNING_SECRET="dev-signing-secret",
        LUMEN_DATABASE_URL=url,
        LUMEN_CONFIG=str(config_path),
        **extra,
    )


@asynccontextmanager
async def open_history(templates: Templates, backend: str, now: datetime, tmp_path: Path,
                       history_source: Source = FIRST) -> AsyncIterator[History]:
    """A private copy of the history built for `now`, with a container that knows channel members."""
    source, plans, ids = templates.get(backend, now, history_source)
    pg_name = None
    if backend == "sqlite":
        path = tmp_path / "ask.db"
        shutil.copyfile(source, path)
        url = sqlite_url(tmp_path, "ask.db")
    else:
        admin = postgres_admin_url()
        assert admin is not None
        pg_name = f"lumen_test_ask_{uuid.uuid4().hex[:12]}"
        await _pg(admin, f'CREATE DATABASE "{pg_name}" TEMPLATE "{source}"')
        url = make_url(admin).set(drivername="postgresql+asyncpg", database=pg_name).render_as_string(hide_password=False)
    config_path = tmp_path / "lumen.yml"
    config_path.write_text(history_source.config_yaml)
    db = Database(url)
    container = build_container(history_settings(url, config_path), history_source.config(), db,
                                directory=ChannelMembers(history_source.members))
    try:
        yield History(url=url, db=db, container=container, plans=plans, ids=ids, now=now, config_path=config_path)
    finally:
        await db.dispose()
        if pg_name is not None:
            await _pg(postgres_admin_url() or "", f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and postgres_admin_url() is None:
        pytest.skip("Postgres tests need LUMEN_TEST_POSTGRES_URL (CI sets it)")
    return request.param


@pytest.fixture
async def history(templates: Templates, backend: str, tmp_path: Path) -> AsyncIterator[History]:
    """The history as of NOW (2026-11-21 12:00 UTC); pass `now=history.now` when asking."""
    async with open_history(templates, backend, NOW, tmp_path) as opened:
        yield opened


@pytest.fixture
async def live_history(templates: Templates, backend: str, tmp_path: Path) -> AsyncIterator[History]:
    """The same kind of history as of the real clock, for paths that ask without `now=`."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0, minute=0)
    async with open_history(templates, backend, now, tmp_path) as opened:
        yield opened


QUALITY = Source("quality", quality_history.generate, quality_history.history_config, quality_history.write_history,
                 quality_history.CONFIG_YAML, quality_history.MEMBERS)


@pytest.fixture
async def quality_history_db(templates: Templates, backend: str, tmp_path: Path) -> AsyncIterator[History]:
    """The second history (tests/ask/quality), as of its NOW (2026-06-17 15:00 UTC)."""
    async with open_history(templates, backend, quality_history.NOW, tmp_path, QUALITY) as opened:
        yield opened
