"""Shared fixtures: both databases, lumen.yml, and Lumen's container.

Tests that take `db` run twice: on SQLite, and on Postgres when
LUMEN_TEST_POSTGRES_URL is set (CI always sets it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# litellm must never try the network for its cost map, in any test.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from lumen.config import LumenConfig, parse_config  # noqa: E402
from lumen.db.migrate import upgrade  # noqa: E402
from lumen.db.session import Database  # noqa: E402
from lumen.container import Container  # noqa: E402
from lumen.runtime import build_container  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from lumen.ventures.sync import sync_config  # noqa: E402
from tests.support.databases import postgres_admin_url, postgres_database, sqlite_url  # noqa: E402
from tests.support.openai_stub import OpenAIStub  # noqa: E402

EXAMPLE_CONFIG = Path(__file__).parents[1] / "src" / "lumen" / "templates" / "lumen.example.yml"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("Postgres tests need LUMEN_TEST_POSTGRES_URL (CI sets it)")
    async with postgres_database(admin) as url:
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database.engine)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def stub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenAIStub]:
    """An OpenAI-compatible model server on a free local port (what `openai/…` models reach
    through LUMEN_MODEL_API_BASE), with a dummy key: litellm calls no provider without one."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-lumen-test-not-a-key")
    server = await OpenAIStub().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def example_config() -> LumenConfig:
    return parse_config(EXAMPLE_CONFIG.read_text(), source=str(EXAMPLE_CONFIG))


@pytest.fixture
async def container(db: Database, example_config: LumenConfig, tmp_path: Path) -> Container:
    async with db.transaction() as session:
        await sync_config(session, example_config)
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-dev-token",
        SLACK_SIGNING_SECRET="dev-signing-secret",
        LUMEN_DATABASE_URL=db.url,
        LUMEN_CONFIG=str(tmp_path / "lumen.yml"),
    )
    return build_container(settings, example_config, db)
