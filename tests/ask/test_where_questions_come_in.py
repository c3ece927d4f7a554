"""Where questions come in, through the dev workspace over real HTTP, and on the command line.

`/lumen ask`, @mentions (in a channel and in a thread), DMs and Slack's assistant view each get
the answer in a thread. These run against a history generated relative to the real clock (the
listeners ask "now" themselves), and check the answer cites exactly what the generator says
"last quarter" holds, each decision linked to its permalink.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest

from lumen.devmode import DevStack, dev_stack
from devslack import Message, Workspace
from lumen.slack.listeners.ask import SUGGESTED_PROMPTS
from tests.ask.conftest import History
from tests.ask.history import LOCAL

FAST_RETRIES = (0.05, 0.05, 0.05)
TIMEOUT = 10


def last_quarter(now: datetime) -> tuple[date, date]:
    today = now.astimezone(LOCAL).date()
    start_month = 3 * ((today.month - 1) // 3) + 1
    this_quarter = date(today.year, start_month, 1)
    index = today.year * 12 + start_month - 1 - 3
    return date(index // 12, index % 12 + 1, 1), this_quarter


@pytest.fixture
async def stack(live_history: History) -> AsyncIterator[DevStack]:
    workspace = Workspace.demo(retry_delays=FAST_RETRIES)
    container = live_history.container
    async with dev_stack(container.settings, container.config, workspace=workspace) as running:
        yield running


def expected_last_quarter(history: History, venture: str) -> dict[int, str]:
    span = last_quarter(datetime.now(LOCAL))
    return {history.id_of(p): p.permalink for p in history.plans if p.venture == venture and p.in_local(*span)}


def bot_replies(ws: Workspace, channel_id: str, thread_ts: str) -> list[Message]:
    return [m for m in ws.thread(channel_id, thread_ts) if m.ts != thread_ts and m.user == ws.bot.id]


def cited_links(message: Message) -> dict[int, str]:
    """Decision id -> permalink, for every whole citation link in the answer's sections (each is
    rendered on its own, so a link cut in two by a section boundary is not a link)."""
    links: dict[int, str] = {}
    for block in message.blocks:
        if block["type"] == "section":
            links |= {int(i): url for url, i in re.findall(r"<([^|>]+)\|#(\d+)>", block["text"]["text"])}
    return links


def assert_cites(message: Message, expected: dict[int, str]) -> None:
    assert expected, "the generator gives last quarter something"
    assert cited_links(message) == expected, [b.get("text") for b in message.blocks]
    sources = str(message.blocks)
    assert "*Sources*" in sources
    for decision_id, permalink in expected.items():
        assert f"<{permalink}|#{decision_id} " in sources


async def test_slash_command_posts_the_question_and_answers_in_its_thread(stack: DevStack, live_history: History) -> None:
    ws = stack.workspace
    channel = ws.channel_by_name("venture-acme")
    assert channel is not None
    delivery = await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "ask what did Acme try last quarter?")
    assert delivery.status == 200

    def posted_question() -> Message | None:
        return next(
            (m for m in ws.messages("venture-acme", include_replies=False)
             if m.user == ws.bot.id and m.text == "<@U0ALICE> asked: what did Acme try last quarter?"),
            None,
        )

    question = await ws.wait_for(posted_question, timeout=TIMEOUT)
    [answer] = await ws.wait_for(lambda: bot_replies(ws, channel.id, question.ts), timeout=TIMEOUT)
    assert answer.thread_ts == question.ts
    assert_cites(answer, expected_last_quarter(live_history, "acme"))
    assert len(ws.messages("venture-acme", include_replies=False)) == 1, "only the question at the top level"


async def test_slash_command_question_cannot_ping_the_channel(stack: DevStack) -> None:
    ws = stack.workspace
    await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "ask <!channel> what did Acme try last quarter?")
    question = await ws.wait_for(
        lambda: next((m for m in ws.messages("venture-acme", include_replies=False) if m.user == ws.bot.id), None),
        timeout=TIMEOUT,
    )
    assert "<!channel>" not in question.text and "&lt;!channel&gt;" in question.text


async def test_a_mention_in_a_channel_is_answered_in_its_thread(stack: DevStack, live_history: History) -> None:
    ws = stack.workspace
    asked = await ws.send_message("U0ALICE", "venture-acme", ws.mentionify("@lumen what did acme try last quarter?"))
    assert asked.mentions(ws.bot.id)
    [answer] = await ws.wait_for(lambda: bot_replies(ws, asked.channel, asked.ts), timeout=TIMEOUT)
    assert answer.thread_ts == asked.ts
    assert_cites(answer, expected_last_quarter(live_history, "acme"))


async def test_a_mention_inside_a_thread_is_answered_in_that_thread(stack: DevStack, live_history: History) -> None:
    ws = stack.workspace
    channel = ws.channel_by_name("venture-brightbox")
    assert channel is not None
    parent = ws.post(channel.id, user="U0BOB", text="Planning the next quarter for Brightbox")
    asked = await ws.send_message(
        "U0ALICE", channel.id, ws.mentionify("@lumen what did we try last quarter?"), thread_ts=parent.ts
    )
    replies = await ws.wait_for(lambda: bot_replies(ws, channel.id, parent.ts), timeout=TIMEOUT)
    assert [m.thread_ts for m in replies] == [parent.ts]
    assert bot_replies(ws, channel.id, asked.ts) == [], "not a thread of its own"
    # Asked in Brightbox's channel without naming a venture: the channel says which.
    assert_cites(replies[0], expected_last_quarter(live_history, "brightbox"))


async def test_a_dm_is_answered_in_a_thread_and_private_ventures_follow_membership(
    stack: DevStack, live_history: History
) -> None:
    ws = stack.workspace
    # Dan leaves #venture-zenith before anyone asks (Lumen caches channel members for minutes).
    private = ws.channel_by_name("venture-zenith")
    assert private is not None and private.is_private
    private.members.remove("U0DAN")

    dm = ws.dm_with("U0CAROL")
    asked = await ws.send_message("U0CAROL", dm.id, "What did Zenith try last quarter?")
    [answer] = await ws.wait_for(lambda: bot_replies(ws, dm.id, asked.ts), timeout=TIMEOUT)
    assert answer.thread_ts == asked.ts
    assert_cites(answer, expected_last_quarter(live_history, "zenith"))  # carol is in #venture-zenith

    dan = ws.dm_with("U0DAN")
    asked = await ws.send_message("U0DAN", dan.id, "What did Zenith try last quarter?")
    [refusal] = await ws.wait_for(lambda: bot_replies(ws, dan.id, asked.ts), timeout=TIMEOUT)
    # For dan, "Zenith" is a word like any other: nothing found, and nothing says it exists.
    assert refusal.text.startswith("Nothing recorded about zenith") and cited_links(refusal) == {}
    assert "Zenith Health" not in refusal.text and "Zenith Health" not in str(refusal.blocks)


async def test_the_assistant_view_suggests_shows_status_titles_and_answers(stack: DevStack, live_history: History) -> None:
    ws = stack.workspace
    thread = await ws.open_assistant_thread("U0ALICE")
    await ws.wait_for(lambda: thread.prompts, timeout=TIMEOUT)
    assert thread.prompts == SUGGESTED_PROMPTS
    assert thread.prompts_title == "Ask Lumen about your ventures"

    question = "What did Acme try last quarter?"
    await ws.send_message("U0ALICE", thread.channel_id, question, thread_ts=thread.thread_ts)
    replies = await ws.wait_for(lambda: bot_replies(ws, thread.channel_id, thread.thread_ts), timeout=TIMEOUT)
    await asyncio.sleep(0.3)  # a second answer (say, from the plain DM listener) would have arrived by now
    replies = bot_replies(ws, thread.channel_id, thread.thread_ts)
    assert len(replies) == 1, [m.text[:80] for m in replies]
    assert_cites(replies[0], expected_last_quarter(live_history, "acme"))

    statuses = [c.params for c in ws.calls_to("assistant.threads.setStatus")]
    assert [s["status"] for s in statuses] == ["is thinking…"]
    assert statuses[0]["thread_ts"] == thread.thread_ts and statuses[0]["channel_id"] == thread.channel_id
    assert thread.title == question
    assert thread.status == "", "the answer clears the status"


# --- the command line ---------------------------------------------------------------------------------

LUMEN = shutil.which("lumen", path=str(Path(sys.executable).parent))
COMMAND = [LUMEN] if LUMEN else [sys.executable, "-m", "lumen"]
SOURCES = str(Path(__file__).parents[2] / "src")  # this checkout's, as in tests/test_cli.py


async def lumen_ask(history: History, *args: str) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(history.config_path.parent),
        "LANG": "C.UTF-8",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LUMEN_DATABASE_URL": history.url,
        "LUMEN_CONFIG": str(history.config_path),
        "PYTHONPATH": SOURCES,
    }
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, "ask", *args, cwd=history.config_path.parent, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_lumen_ask_on_the_command_line_sees_every_venture(history: History) -> None:
    # The operator's view: the private venture too. A fixed quarter, since the CLI asks "now" itself.
    question = "what did Zenith try in Q1 2026?"
    code, out, err = await lumen_ask(history, question)
    assert code == 0, err
    expected = history.ids_where(lambda p: p.venture == "zenith" and p.in_local(date(2026, 1, 1), date(2026, 4, 1)))
    cited = re.search(r"^cited: (.*)$", out, re.M)
    assert cited, out
    assert {int(i) for i in re.findall(r"#(\d+)", cited.group(1))} == expected
    assert "<http" not in out and "Recorded for Zenith Health in Q1 2026" in out

    # As a Slack user who is not in #venture-zenith, it is a word like any other: the same answer
    # as for a venture that does not exist.
    as_dan, dan_out, dan_err = await lumen_ask(history, "--as-user", "U0DAN", question)
    assert as_dan == 0, dan_err
    assert "Zenith Health" not in dan_out and "cited:" not in dan_out
    _, made_up, _ = await lumen_ask(history, "--as-user", "U0DAN", question.replace("Zenith", "Quorra"))
    assert dan_out.replace("zenith", "quorra") == made_up


# --- long answers ----------------------------------------------------------------------------------------


async def test_a_long_answer_shows_its_first_page_and_a_button_posts_the_rest(stack: DevStack, live_history: History) -> None:
    from lumen.render.answers import SHOW_ALL_ACTION

    ws = stack.workspace
    channel = ws.channel_by_name("venture-acme")
    assert channel is not None
    asked = await ws.send_message("U0ALICE", channel.id, ws.mentionify("@lumen what has acme done?"))
    [answer] = await ws.wait_for(lambda: bot_replies(ws, channel.id, asked.ts), timeout=TIMEOUT)
    everything = {live_history.id_of(p) for p in live_history.plans if p.venture == "acme"}
    first_page = set(cited_links(answer))
    assert len(first_page) == 25 and first_page < everything
    rest = len(everything) - 25
    button = next(e for b in answer.blocks if b.get("accessory") for e in [b["accessory"]] if e.get("action_id") == SHOW_ALL_ACTION)
    assert button["text"]["text"] == f"Show all {rest}"
    assert f"{rest} more decisions answer this." in str(answer.blocks)

    await ws.click("U0BOB", channel.id, answer.ts, SHOW_ALL_ACTION)
    await ws.click("U0BOB", channel.id, answer.ts, SHOW_ALL_ACTION)  # a second click posts nothing twice
    def more() -> list[Message]:
        replies = bot_replies(ws, channel.id, asked.ts)
        return replies[1:] if len(replies) > 1 else []
    posted = await ws.wait_for(more, timeout=TIMEOUT)
    await asyncio.sleep(0.3)
    posted = more()
    listed = {int(i) for m in posted for i in re.findall(r"\|#(\d+) ", str(m.blocks))}
    assert listed == everything - first_page, "the rest, each once, in the answer's thread"
    assert all(m.thread_ts == asked.ts for m in posted)


async def test_lumen_ask_all_lists_everything_and_now_pins_the_answer(history: History) -> None:
    # history.now is 2026-11-21 12:00 UTC, 04:00 in Los Angeles: "last quarter" is Q3 2026 there.
    code, out, err = await lumen_ask(history, "--now", "2026-11-21T04:00", "what did acme try last quarter?")
    assert code == 0, err
    cited = {int(i) for i in re.findall(r"#(\d+)", re.search(r"^cited: (.*)$", out, re.M).group(1))}  # type: ignore[union-attr]
    assert cited == history.ids_where(lambda p: p.venture == "acme" and p.in_local(date(2026, 7, 1), date(2026, 10, 1)))
    again = await lumen_ask(history, "--now", "2026-11-21T12:00:00Z", "what did acme try last quarter?")
    assert again[1] == out, "the same moment, written in UTC: the same answer"

    code, out, err = await lumen_ask(history, "--all", "--now", "2026-11-21", "what has acme done?")
    assert code == 0, err
    cited = {int(i) for i in re.findall(r"#(\d+)", re.search(r"^cited: (.*)$", out, re.M).group(1))}  # type: ignore[union-attr]
    assert cited == history.ids_where(lambda p: p.venture == "acme" and p.local_date < date(2026, 11, 21))
    assert "more answer this" not in out

    short = await lumen_ask(history, "--now", "2026-11-21", "what has acme done?")
    assert "more answer this: add --all to list them." in short[1]
    bad = await lumen_ask(history, "--now", "next tuesday", "what has acme done?")
    assert bad[0] != 0 and "--now" in bad[2]
