"""Every command and question the README's tour suggests, tried on `lumen dev`'s real demo.

The suggestions are read from the README itself (the code spans of "The tour" that start
with `/lumen`, `@lumen` or `lumen`), so a suggestion added there without a check here fails
below. Checks look at the data, not at the demo's wording: an answer must cite decisions that
really are what was asked about (that venture, that outcome, that quarter).

The commands in the terminal run where `lumen dev` runs (its `.lumen/dev.db`), with nothing
set, as the README says.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import select

from devslack import Workspace
from lumen.db.models import Decision, Outcome, Run, RunStatus, RunTrigger, Venture
from lumen.devmode import DEV_DATABASE, DevStack, demo_config, dev_stack
from lumen.settings import Settings
from tests.slack.support import block_texts

README = Path(__file__).parents[2] / "README.md"
LUMEN = shutil.which("lumen", path=str(Path(sys.executable).parent))
COMMAND = [LUMEN] if LUMEN else [sys.executable, "-m", "lumen"]
SOURCES = str(Path(__file__).parents[2] / "src")  # this checkout's, as in tests/test_cli.py


def tour_suggestions() -> list[str]:
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("### The tour") :]
    tour = tour[: tour.index("\n## ")]
    spans = re.findall(r"`([^`\n]+)`", tour)
    return list(dict.fromkeys(s for s in spans if s.split(" ")[0] in ("/lumen", "@lumen", "lumen")))


@dataclass
class Demo:
    stack: DevStack
    folder: Path

    @property
    def ws(self) -> Workspace:
        return self.stack.workspace


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    """`lumen dev` as a newcomer starts it: the bundled ventures, the demo history, every agent woken."""
    folder = tmp_path_factory.mktemp("lumen-dev")
    (folder / DEV_DATABASE).parent.mkdir()
    settings = Settings(
        LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{folder / DEV_DATABASE}",
        LUMEN_CONFIG=str(folder / "lumen.yml"),
        LUMEN_OFFLINE_SIMULATED_PRICES=True,  # as `lumen dev` sets it
    )
    async with dev_stack(settings, demo_config(), demo=True) as stack:
        # Woken on start: wait until the agents' first decisions are out.
        await stack.workspace.wait_for(lambda: _approval_cards(stack.workspace), timeout=30)
        yield Demo(stack, folder)


def _approval_cards(ws: Workspace) -> list:
    return [m for m in ws.messages("venture-acme", include_replies=False) if "Approval needed" in m.text]


# --- asking in the workspace ---------------------------------------------------------------


async def _slash(demo: Demo, user: str, channel: str, text: str) -> str:
    ws = demo.ws
    before = len(ws.ephemeral_messages(channel, user))
    delivery = await ws.slash_command(user, channel, "/lumen", text)
    assert delivery.status == 200  # the answer comes in the ack or after it, as an ephemeral message
    [answer] = await ws.wait_for(lambda: ws.ephemeral_messages(channel, user)[before:], 10)
    return answer.text + "\n" + block_texts(answer.blocks)


async def _answer_in_thread(demo: Demo, channel: str, start: Callable[[], Awaitable[None]]) -> str:
    """Ask (a mention, or /lumen ask), then read the bot's reply in the question's thread."""
    ws = demo.ws
    seen = {m.ts for m in ws.messages(channel)}
    await start()

    def reply():  # type: ignore[no-untyped-def]
        return [m for m in ws.messages(channel) if m.ts not in seen and m.is_reply and m.bot_id]

    [answer] = await ws.wait_for(reply, 15)
    return answer.text + "\n" + block_texts(answer.blocks)


async def ask(demo: Demo, suggestion: str, channel: str = "general", user: str = "U0CAROL") -> str:
    if suggestion.startswith("@lumen "):
        return await _answer_in_thread(
            demo, channel, lambda: demo.ws.send_message(user, channel, demo.ws.mentionify(suggestion))
        )
    return await _answer_in_thread(
        demo, channel, lambda: demo.ws.slash_command(user, channel, "/lumen", suggestion.removeprefix("/lumen "))
    )


async def in_terminal(demo: Demo, suggestion: str) -> str:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(demo.folder), "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": SOURCES}
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, *suggestion.split(" ")[1:], cwd=demo.folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert ".lumen/dev.db" in err.decode()  # it says which database it read
    return out.decode()


# --- what the answers must cite --------------------------------------------------------------


def cited(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+)\b", text)]


async def decisions(demo: Demo, ids: list[int]) -> list[tuple[Decision, str, str | None]]:
    """(decision, venture slug, latest verdict) of each cited decision."""
    async with demo.stack.container.db.sessions() as session:
        rows = (await session.execute(
            select(Decision, Venture.slug).join(Venture, Venture.id == Decision.venture_id).where(Decision.id.in_(ids))
        )).all()
        verdicts = {
            o.decision_id: o.verdict.value
            for o in (await session.scalars(select(Outcome).where(Outcome.decision_id.in_(ids)).order_by(Outcome.id))).all()
        }
    return [(d, slug, verdicts.get(d.id)) for d, slug in rows]


async def assert_cites(demo: Demo, text: str, *, venture: str, verdict: str | None = None,
                       since: datetime | None = None, until: datetime | None = None) -> None:
    ids = cited(text)
    assert ids, f"the answer cites nothing: {text}"
    assert "Nothing recorded" not in text, text
    for decision, slug, outcome in await decisions(demo, ids):
        assert slug == venture, (decision.title, slug)
        if verdict:
            assert outcome == verdict, (decision.title, outcome)
        if since:
            assert since <= decision.created_at < until, (decision.title, decision.created_at)


def _quarter_start(moment: datetime) -> datetime:
    return moment.replace(month=3 * ((moment.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def last_quarter(tz: str) -> tuple[datetime, datetime]:
    """The calendar quarter before this one, in the workspace's zone: [start, end)."""
    this_quarter = _quarter_start(datetime.now(ZoneInfo(tz)))
    return _quarter_start(this_quarter - timedelta(days=1)), this_quarter


# --- one test per suggestion ----------------------------------------------------------------


async def status_in_channel(demo: Demo) -> None:
    text = await _slash(demo, "U0ALICE", "venture-acme", "status")
    assert "Acme Analytics" in text and "Spend this month" in text and "Brightbox Studio" not in text


async def status_all(demo: Demo) -> None:
    text = await _slash(demo, "U0ALICE", "venture-acme", "status all")
    assert "Acme Analytics" in text and "Brightbox Studio" in text


async def brain_acme(demo: Demo) -> None:
    text = await _slash(demo, "U0BOB", "venture-acme", "brain acme")
    assert "Acme Analytics · brain v" in text
    for section in ("Principles", "What worked", "What failed"):
        assert section in text
    await assert_cites(demo, text, venture="acme")


async def what_failed_at_acme(demo: Demo) -> None:
    text = await ask(demo, "@lumen what failed at acme?")
    await assert_cites(demo, text, venture="acme", verdict="failure")


async def what_acme_tried_last_quarter(demo: Demo) -> None:
    text = await ask(demo, "/lumen ask what did acme try last quarter?")
    since, until = last_quarter(demo.stack.container.workspace_tz)
    await assert_cites(demo, text, venture="acme", since=since, until=until)


async def what_worked_at_brightbox(demo: Demo) -> None:
    text = await ask(demo, "/lumen ask what worked at brightbox?")
    await assert_cites(demo, text, venture="brightbox", verdict="success")


async def talk_to_acme_ceo(demo: Demo) -> None:
    # Alice (an Acme approver, so she may wake its agents) asks in Acme's channel; the ceo
    # itself answers in her message's thread, from a run woken by what she wrote.
    text = await ask(demo, "@lumen acme ceo what next?", channel="venture-acme", user="U0ALICE")
    assert "what next?" in text and "I read 1 message" in text, text
    async with demo.stack.container.db.sessions() as session:
        runs = (await session.scalars(select(Run).where(Run.trigger == RunTrigger.EVENT))).all()
    assert any(r.status == RunStatus.SUCCEEDED for r in runs), [(r.id, r.status, r.error) for r in runs]


async def budget(demo: Demo) -> None:
    text = await _slash(demo, "U0DAN", "venture-acme", "budget")
    assert "Spend this month" in text
    for agent in ("acme/ceo", "acme/cmo", "brightbox/ceo"):
        assert agent in text


async def costs(demo: Demo) -> None:
    text = await _slash(demo, "U0DAN", "venture-acme", "costs")
    assert "Costs · all ventures" in text and "simulated price table" in text
    assert "$0.00 this month" not in text  # the demo's calls were priced
    for agent in ("acme/ceo", "acme/cmo", "brightbox/ceo"):
        assert agent in text


async def cli_status(demo: Demo) -> None:
    out = await in_terminal(demo, "lumen status")
    assert "Acme Analytics (acme)" in out and "Brightbox Studio (brightbox)" in out
    assert out.count("AGENT") == 2  # a header over each venture's agents


async def cli_runs_list(demo: Demo) -> None:
    out = await in_terminal(demo, "lumen runs list")
    header, *rows = out.splitlines()
    assert header.split()[0] == "RUN" and rows
    assert any("acme/ceo" in r for r in rows) and any("brain synthesis" in r for r in rows)


async def cli_what_failed_at_acme(demo: Demo) -> None:
    out = await in_terminal(demo, "lumen ask what failed at acme?")
    await assert_cites(demo, out, venture="acme", verdict="failure")


CHECKS: dict[str, Callable[[Demo], Awaitable[None]]] = {
    "/lumen status": status_in_channel,
    "/lumen status all": status_all,
    "/lumen brain acme": brain_acme,
    "@lumen what failed at acme?": what_failed_at_acme,
    "/lumen ask what did acme try last quarter?": what_acme_tried_last_quarter,
    "/lumen ask what worked at brightbox?": what_worked_at_brightbox,
    "@lumen acme ceo what next?": talk_to_acme_ceo,
    "/lumen budget": budget,
    "/lumen costs": costs,
    "lumen status": cli_status,
    "lumen runs list": cli_runs_list,
    "lumen ask what failed at acme?": cli_what_failed_at_acme,
}
def _cases() -> list:
    return [pytest.param(suggestion, id=suggestion) for suggestion in tour_suggestions()]


def test_the_readme_suggests_what_these_tests_check() -> None:
    """Both ways: nothing suggested goes unchecked, and nothing checked is no longer suggested."""
    assert set(tour_suggestions()) == set(CHECKS)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("suggestion", _cases())
async def test_readme_suggestion(demo: Demo, suggestion: str) -> None:
    check = CHECKS.get(suggestion)
    assert check is not None, f"the README suggests {suggestion!r}: say here what it must show"
    await check(demo)
