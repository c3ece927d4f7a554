"""The `lumen` command as operators run it: a subprocess with a clean environment in an empty
directory, so nothing from the developer's shell or checkout leaks in."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

LUMEN = shutil.which("lumen", path=str(Path(sys.executable).parent))
COMMAND = [LUMEN] if LUMEN else [sys.executable, "-m", "lumen"]
# The installed entry point, running this checkout's sources (a worktree shares main's venv).
SOURCES = str(Path(__file__).parents[1] / "src")


@dataclass
class Result:
    code: int
    out: str
    err: str


async def lumen(cwd: Path, *args: str, **env: str) -> Result:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": SOURCES,
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, *args, cwd=cwd, env=clean,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return Result(proc.returncode or 0, out.decode(), err.decode())


async def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = await lumen(tmp_path, "--help")
    assert result.code == 0, result.err
    for name in ("init", "sync", "serve", "dev", "status", "db"):
        assert name in result.out


async def test_dev_without_the_dev_workspace_says_how_to_get_it(tmp_path: Path) -> None:
    """A production install (the Docker image, `pip install lumen`) has no devslack."""
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; sys.modules['devslack'] = None; from lumen.cli import main; main()",
        "dev", "--port", "0", cwd=tmp_path, env=clean,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2, (out, err)
    assert "pip install -e src/devslack" in err.decode() and "./scripts/dev" in err.decode()
    assert "Traceback" not in err.decode()
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


async def test_serve_refuses_to_start_without_a_signing_secret(tmp_path: Path) -> None:
    result = await lumen(
        tmp_path, "serve", "--port", "0", SLACK_BOT_TOKEN="xoxb-test",
        LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'lumen.db'}",
    )
    assert result.code == 2, (result.out, result.err)
    assert "SLACK_SIGNING_SECRET" in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "lumen.db").exists()  # refused before touching anything


async def test_init_then_sync_applies_the_file_once(tmp_path: Path, database_url: str) -> None:
    env = {"LUMEN_DATABASE_URL": database_url}
    created = await lumen(tmp_path, "init", **env)
    assert created.code == 0, created.err
    assert (tmp_path / "lumen.yml").is_file()
    again = await lumen(tmp_path, "init", **env)
    assert again.code == 2 and "already exists" in again.err

    first = await lumen(tmp_path, "sync", **env)
    assert first.code == 0, first.err
    for line in ("created venture acme", "created agent acme/ceo", "created venture brightbox"):
        assert line in first.out.splitlines(), first.out
    assert "nothing to change" not in first.out
    second = await lumen(tmp_path, "sync", **env)
    assert second.code == 0, second.err
    assert second.out.strip().splitlines() == ["nothing to change"]


async def test_sync_explains_a_broken_file(tmp_path: Path) -> None:
    await lumen(tmp_path, "init")
    config = tmp_path / "lumen.yml"
    config.write_text(config.read_text().replace("slug: acme", "slug: Acme!", 1))
    result = await lumen(
        tmp_path, "sync", LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'lumen.db'}"
    )
    assert result.code == 2, (result.out, result.err)
    assert "lumen.yml: ventures[0=Acme!].slug" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        ("ventures: [unclosed\n", "lumen: lumen.yml:2:1: not valid YAML"),
        ("ventures:\n  - slug: acme\n", "lumen: lumen.yml: ventures[0=acme].name: Field required"),
    ],
    ids=["yaml", "missing-fields"],
)
async def test_sync_refuses_invalid_yaml_and_missing_fields(tmp_path: Path, broken: str, says: str) -> None:
    (tmp_path / "lumen.yml").write_text(broken)
    result = await lumen(
        tmp_path, "sync", LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'lumen.db'}"
    )
    assert result.code == 2, (result.out, result.err)
    assert result.err.startswith(says), result.err
    assert "Traceback" not in result.err


async def test_away_from_any_lumen_the_commands_say_exactly_what_to_set(tmp_path: Path) -> None:
    result = await lumen(tmp_path, "status")
    assert result.code == 2, (result.out, result.err)
    for hint in ("LUMEN_CONFIG", "LUMEN_DATABASE_URL", "lumen init", "lumen dev", ".lumen/dev.db"):
        assert hint in result.err, result.err
    assert "Traceback" not in result.err


async def test_in_lumen_devs_folder_the_commands_read_its_database(tmp_path: Path) -> None:
    """What `lumen dev` leaves in its folder (.lumen/dev.db, the bundled ventures) is what the
    commands read there, with no variable set, and they say which database they read."""
    from lumen.devmode import demo_config
    from lumen.runtime import prepare
    from lumen.settings import Settings

    (tmp_path / ".lumen").mkdir()
    c = await prepare(Settings(LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / '.lumen' / 'dev.db'}"), demo_config())
    await c.db.dispose()

    synthesised = await lumen(tmp_path, "brain", "synthesize", "brightbox")
    assert synthesised.code == 0, synthesised.err
    assert ".lumen/dev.db" in synthesised.err and "LUMEN_DATABASE_URL" in synthesised.err

    status = await lumen(tmp_path, "status")
    assert status.code == 0, status.err
    assert "Acme Analytics (acme)" in status.out and "Brightbox Studio (brightbox)" in status.out
    headers = [line.split() for line in status.out.splitlines() if line.strip().startswith("AGENT")]
    assert headers == [["AGENT", "STATUS", "MODEL", "LAST", "WAKE", "NEXT", "WAKE"]] * 2
    assert status.out.rstrip().endswith("times in Europe/Berlin")

    listed = await lumen(tmp_path, "runs", "list")
    assert listed.code == 0, listed.err
    header, *rows = listed.out.splitlines()
    assert header.split() == ["RUN", "CREATED", "(Europe/Berlin)", "WHAT", "TRIGGER", "STATUS", "COST", "ERROR"]
    assert "brightbox · brain synthesis" in rows[0] and "/-" not in listed.out


async def test_an_operators_own_database_beside_lumen_devs_wins_and_says_so(tmp_path: Path) -> None:
    (tmp_path / ".lumen").mkdir()
    (tmp_path / ".lumen" / "dev.db").write_bytes(b"")  # lumen dev ran here once
    assert (await lumen(tmp_path, "init")).code == 0
    # The operator's lumen.yml into ./lumen.db, the default database.
    synced = await lumen(tmp_path, "sync", LUMEN_DATABASE_URL="sqlite+aiosqlite:///lumen.db")
    assert synced.code == 0, synced.err
    status = await lumen(tmp_path, "status")
    assert status.code == 0, status.err
    assert "reading lumen.db; for lumen dev's, set LUMEN_DATABASE_URL=sqlite+aiosqlite:///.lumen/dev.db" in status.err
    assert "Acme Analytics (acme)" in status.out


async def test_costs_prints_a_table_and_json_from_the_database(tmp_path: Path) -> None:
    """`lumen costs` reads what the ledger wrote: spend by agent and model, and the envelopes."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from lumen.config import parse_config
    from lumen.db.base import utcnow
    from lumen.db.models import Agent, Spend
    from lumen.runtime import prepare
    from lumen.settings import Settings

    config_text = """
gates: {approvers: [U0ALICE]}
ventures:
  - {slug: acme, name: Acme, channel: venture-acme, budget_usd_month: 40,
     agents: [{role: ceo, schedule: "0 9 * * 1", budget_usd_month: 25}]}
"""
    (tmp_path / "lumen.yml").write_text(config_text)
    url = f"sqlite+aiosqlite:///{tmp_path / 'lumen.db'}"
    c = await prepare(Settings(LUMEN_DATABASE_URL=url), parse_config(config_text))
    async with c.db.transaction() as session:
        ceo = await session.scalar(select(Agent))
        for days_ago in range(3):
            session.add(Spend(agent_id=ceo.id, venture_id=ceo.venture_id, purpose="decide", model="openai/gpt-4o", cost_usd=Decimal("1.25"), created_at=utcnow() - timedelta(seconds=5 + 86400 * days_ago)))
    await c.db.dispose()

    env = {"LUMEN_DATABASE_URL": url, "LUMEN_CONFIG": str(tmp_path / "lumen.yml")}
    shown = await lumen(tmp_path, "costs", "acme", **env)
    assert shown.code == 0, shown.err
    assert "Costs · acme ·" in shown.out and "ENVELOPE" in shown.out and "acme/ceo" in shown.out and "openai/gpt-4o" in shown.out
    as_json = await lumen(tmp_path, "costs", "--json", **env)
    assert as_json.code == 0, as_json.err
    import json

    data = json.loads(as_json.out)
    assert data["scope"] == "all ventures" and data["by_model"][0]["name"] == "openai/gpt-4o"
    assert {e["name"]: e["budget_usd"] for e in data["envelopes"]} == {"acme": 40.0, "acme/ceo": 25.0}
    assert data["by_agent"][0]["calls"] == data["calls"]  # only the ceo spent

    charted = await lumen(tmp_path, "costs", "acme", "--chart", str(tmp_path / "acme.png"), **env)
    assert charted.code == 0, charted.err
    assert f"chart: {tmp_path / 'acme.png'}" in charted.out
    from PIL import Image

    with Image.open(tmp_path / "acme.png") as image:
        assert image.format == "PNG" and image.size == (640, 300)
    assert [w["agent"] for w in data["next_wake"]] == ["acme/ceo"] and data["next_wake"][0]["runs_seen"] == 0
    missing = await lumen(tmp_path, "costs", "nosuch", **env)
    assert missing.code == 2 and "No venture called" in missing.err and "Traceback" not in missing.err


async def test_wake_estimate_prices_the_agents_recent_runs_for_its_model_and_wakes_nobody(tmp_path: Path) -> None:
    """Three earlier runs of acme/ceo (1, 1 and 2 calls), re-priced at gpt-4o's price from
    litellm's bundled table: the expected cost is their mean, the range their extremes."""
    import json
    from decimal import Decimal

    from sqlalchemy import func, select

    from lumen.config import parse_config
    from lumen.db.base import utcnow
    from lumen.db.models import Agent, Run, RunTrigger, Spend
    from lumen.llm._litellm import litellm
    from lumen.runtime import prepare
    from lumen.settings import Settings

    config_text = """
gates: {approvers: [U0ALICE]}
ventures:
  - {slug: acme, name: Acme, channel: venture-acme, agents: [{role: ceo, schedule: "0 9 * * 1", budget_usd_month: 25}]}
"""
    (tmp_path / "lumen.yml").write_text(config_text)
    url = f"sqlite+aiosqlite:///{tmp_path / 'lumen.db'}"
    c = await prepare(Settings(LUMEN_DATABASE_URL=url), parse_config(config_text))
    runs = [[(3000, 400)], [(5000, 600)], [(2000, 300), (2500, 200)]]
    async with c.db.transaction() as session:
        ceo = await session.scalar(select(Agent))
        for n, calls in enumerate(runs):
            run = Run(venture_id=ceo.venture_id, agent_id=ceo.id, trigger=RunTrigger.MANUAL, idempotency_key=f"wake:{n}")
            session.add(run)
            await session.flush()
            for prompt, completion in calls:
                session.add(Spend(run_id=run.id, agent_id=ceo.id, venture_id=ceo.venture_id, model="openai/gpt-4o", prompt_tokens=prompt, completion_tokens=completion, cost_usd=Decimal("0.01"), created_at=utcnow()))
    await c.db.dispose()

    def gpt4o(prompt: int, completion: int) -> float:
        return sum(litellm().cost_per_token(model="openai/gpt-4o", prompt_tokens=prompt, completion_tokens=completion))

    env = {"LUMEN_DATABASE_URL": url, "LUMEN_CONFIG": str(tmp_path / "lumen.yml"), "LUMEN_MODEL_STRONG": "openai/gpt-4o"}
    result = await lumen(tmp_path, "wake", "acme", "ceo", "--estimate", "--json", **env)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    per_run = [gpt4o(3000, 400), gpt4o(5000, 600), gpt4o(4500, 500)]
    assert data["model"] == "openai/gpt-4o" and data["runs_seen"] == 3 and not data["simulated_prices"]
    assert data["expected_usd"] == pytest.approx(sum(per_run) / 3, rel=1e-4)
    assert data["range_usd"] == pytest.approx([min(per_run), max(per_run)], rel=1e-4)
    assert data["calls_per_run"] == pytest.approx(4 / 3, rel=1e-3)
    assert data["ceiling_usd"] == pytest.approx(gpt4o(6000 + 1500, 2048) * 4 / 3, rel=1e-4)
    assert data["spent_usd"] == pytest.approx(0.04) and data["wakes_left"] == int((25 - 0.04) / (sum(per_run) / 3))

    text = await lumen(tmp_path, "wake", "acme", "ceo", "--estimate", **env)
    assert text.code == 0 and "acme/ceo wake-up on openai/gpt-4o" in text.out and "expected" in text.out
    check = Settings(LUMEN_DATABASE_URL=url)
    from lumen.db.session import Database

    db = Database(check.database_url)
    try:
        async with db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Run)) == 3  # nobody was woken
    finally:
        await db.dispose()
    fresh = await lumen(tmp_path, "wake", "acme", "cmo", "--estimate", **env)
    assert fresh.code == 2 and "has no cmo agent" in fresh.err
