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
from tests.ask.history import CONFIG_YAML, MEMBERS, NOW, Planned, generate, history_config, write_history
from tests.support.databases import _asyncpg_dsn, postgres_admin_url, sqlite_url


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


async def _build(url: str, config: LumenConfig, plans: list[Planned]) -> dict[str, int]:
    db = Database(url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            await sync_config(session, config)
            return await write_history(session, plans)
    finally:
        await db.dispose()


class Templates:
    """Built histories by (backend, now), made on first use and removed at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.built: dict[tuple[str, datetime], tuple[str, list[Planned], dict[str, int]]] = {}
        self.pg_names: list[str] = []

    def get(self, backend: str, now: datetime) -> tuple[str, list[Planned], dict[str, int]]:
        key = (backend, now)
        if key not in self.built:
            plans = generate(now)
            config = history_config()
            if backend == "sqlite":
                path = self.directory / f"history-{len(self.built)}.db"
                ids = _in_thread(lambda: _build(sqlite_url(path.parent, path.name), config, plans))
                self.built[key] = (str(path), plans, ids)
            else:
                admin = postgres_admin_url()
                assert admin is not None
                name = f"lumen_ask_tmpl_{uuid.uuid4().hex[:10]}"
                _in_thread(lambda: _pg(admin, f'CREATE DATABASE "{name}"'))
                self.pg_names.append(name)
                url = make_url(admin).set(drivername="postgresql+asyncpg", database=name)
                ids = _in_thread(lambda: _build(url.render_as_string(hide_password=False), config, plans))
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
async def open_history(templates: Templates, backend: str, now: datetime, tmp_path: Path) -> AsyncIterator[History]:
    """A private copy of the history built for `now`, with container that know channel members."""
    source, plans, ids = templates.get(backend, now)
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
    config_path.write_text(CONFIG_YAML)
    db = Database(url)
    container = build_container(history_settings(url, config_path), history_config(), db, directory=ChannelMembers())
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
