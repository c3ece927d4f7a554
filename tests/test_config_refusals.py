"""A bad lumen.yml, or a database that does not answer, gets one clear line naming the file
and the field (or the database), never a traceback; an empty lumen.yml archives nothing
unless `lumen sync --prune` says so. Through the `lumen` command as operators run it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from lumen.config import load_config, parse_config
from lumen.db.models import Venture
from lumen.db.session import Database
from lumen.errors import ConfigError
from tests.test_cli import lumen

# The subprocess runs the sources under test (this checkout's, when PYTHONPATH points at them).
HERE = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}

VENTURE = """
gates:
  approvers: [U0ALICE]
ventures:
  - slug: {slug}
    name: Acme
    channel: venture-acme
    agents:
      - role: {role}
        schedule: "{schedule}"
"""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (VENTURE.format(slug=5, role="growth", schedule="0 9 * * 1"), "lumen.yml: ventures[0].slug: Input should be a valid string"),
        (VENTURE.format(slug="[a, b]", role="growth", schedule="0 9 * * 1"), "lumen.yml: ventures[0].slug: Input should be a valid string"),
        (VENTURE.format(slug="acme", role=7, schedule="0 9 * * 1"), "lumen.yml: ventures[0=acme].agents[0].role: Input should be a valid string"),
        (VENTURE.format(slug="acme", role="growth", schedule="0 9 30 2 *"), "lumen.yml: ventures[0=acme].agents[0=growth].schedule: '0 9 30 2 *' never fires"),
        (VENTURE.format(slug="acme", role="growth", schedule="0 9 31 4,6 *"), "never fires"),
        ("ventures: " + "[" * 10_000 + "]" * 10_000, "lumen.yml: nested too deeply"),
        ("ventures: " + "{a: " * 10_000 + "}" * 10_000, "lumen.yml: nested too deeply"),
        ("ventures: 5", "lumen.yml: ventures: Input should be a valid tuple"),
        ("- just a list", "lumen.yml: the top level must be a mapping"),
    ],
    ids=["int-slug", "list-slug", "int-role", "feb-30", "apr-31", "deep-flow", "deep-mapping", "scalar", "list"],
)
def test_bad_files_name_the_field(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "lumen.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert says in str(refused.value)
    assert str(path) in str(refused.value)


def test_bad_paths_and_bytes_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "dir.yml").mkdir()
    (tmp_path / "latin.yml").write_bytes(b"ventures:\n  - slug: caf\xe9\n")
    (tmp_path / "huge.yml").write_text("# " + "x" * (2 * 1024 * 1024))
    for name, says in (("dir.yml", "is a directory"), ("latin.yml", ":2: not UTF-8 (byte 0xe9)"), ("huge.yml", "over 1024 KiB")):
        with pytest.raises(ConfigError) as refused:
            load_config(tmp_path / name)
        assert f"{tmp_path / name}" in str(refused.value) and says in str(refused.value), str(refused.value)


def test_schedules_that_fire_are_kept() -> None:
    for schedule in ("0 9 29 2 *", "*/15 * * * *", "0 9 * * 1-5", "0 0 31 * *"):
        config = parse_config(VENTURE.format(slug="acme", role="growth", schedule=schedule))
        assert config.ventures[0].agents[0].schedule == schedule


async def test_an_empty_file_archives_nothing_unless_pruned(tmp_path: Path, database_url: str) -> None:
    env = {"LUMEN_DATABASE_URL": database_url, **HERE}
    assert (await lumen(tmp_path, "init", **env)).code == 0
    first = await lumen(tmp_path, "sync", **env)
    assert first.code == 0, first.err
    for text in ("", "ventures: []\n", "# everything commented out\n", "gates:\n  approvers: [U0ALICE]\n"):
        (tmp_path / "lumen.yml").write_text(text)
        kept = await lumen(tmp_path, "sync", **env)
        assert kept.code == 0, kept.err
        assert kept.out.splitlines() == [
            "kept venture acme, venture brightbox and gate policy version 1: lumen.yml lists no ventures, "
            "so nothing changed (run `lumen sync --prune` to archive them)"
        ], kept.out
        assert await archived(database_url) == set()
    pruned = await lumen(tmp_path, "sync", "--prune", **env)
    assert pruned.code == 0, pruned.err
    assert {"archived venture acme", "archived venture brightbox", "gate policy is now version 2"} <= set(pruned.out.splitlines())
    assert await archived(database_url) == {"acme", "brightbox"}


async def archived(database_url: str) -> set[str]:
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            return set((await session.scalars(select(Venture.slug).where(Venture.archived_at.is_not(None)))).all())
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+asyncpg://postgres@127.0.0.1:1/lumen", "lumen: cannot reach the database at postgresql+asyncpg://postgres@127.0.0.1:1/lumen (LUMEN_DATABASE_URL): "),
        ("postgresql+asyncpg://lumen:s3cret@127.0.0.1:1/lumen", "lumen: cannot reach the database at postgresql+asyncpg://lumen:***@127.0.0.1:1/lumen"),
        ("sqlite+aiosqlite:////nonexistent/folder/lumen.db", "lumen: cannot reach the database at sqlite+aiosqlite:////nonexistent/folder/lumen.db"),
        ("not a url", "lumen: LUMEN_DATABASE_URL is not a database URL Lumen can use"),
    ],
    ids=["refused", "password-hidden", "sqlite-folder", "not-a-url"],
)
async def test_an_unreachable_database_is_one_line(tmp_path: Path, url: str, says: str) -> None:
    await lumen(tmp_path, "init", **HERE)
    for command in (("status",), ("sync",), ("serve", "--port", "0")):
        result = await lumen(tmp_path, *command, LUMEN_DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s", **HERE)
        assert result.code == 2, (command, result.out, result.err)
        assert result.err.startswith(says), (command, result.err)
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err
        assert "s3cret" not in result.err


def test_aliases_that_multiply_are_refused_before_anything_expands_them() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    with pytest.raises(ConfigError, match="expand to more than"):  # 10^9 values from 400 bytes
        parse_config("\n".join(lines) + "\nventures: []\n", source="bomb.yml")


def test_a_few_shared_anchors_are_fine() -> None:
    text = """
gates:
  approvers: &leads
    users: [U0ALICE, U0BOB]
  backup_approvers: *leads
ventures: []
"""
    assert parse_config(text).gates.backup_approvers.users == ("U0ALICE", "U0BOB")
