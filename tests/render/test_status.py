"""`/lumen status`: each venture's stage, agents, approvals waiting and spend, in the viewer's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from lumen.render.limits import MAX_BLOCKS_MESSAGE
from lumen.render.status import status_blocks, status_text
from tests.render.support import HOSTILE, HOSTILE_ESCAPED, agent_line, assert_escaped, report, texts, valid_blocks, venture_status


def test_no_ventures_says_how_to_declare_them() -> None:
    empty = report()
    blocks = valid_blocks(status_blocks(empty))
    assert blocks[0]["text"]["text"] == "Lumen status"
    assert "No ventures yet. Declare them in `lumen.yml`" in texts(blocks)
    assert status_text(empty) == "Lumen status: no ventures yet."


def test_one_venture_shows_stage_approvals_spend_and_agents() -> None:
    blocks = valid_blocks(status_blocks(report(venture_status(), tz="America/New_York")))
    venture = blocks[1]
    assert venture["text"]["text"] == "*Acme Analytics* (`acme`) · <#C0ACME>"
    assert [f["text"] for f in venture["fields"]] == [
        "*Stage*\ngrowth",
        "*Approvals*\n✋ *2* waiting",
        "*Spend this month*\n$12.50 of $100.00",
        "*Agents*\n2",
    ]
    # 09:00 UTC is 04:00 in New York, and 05:00 once its clocks go forward on 8 March;
    # the paused agent has no next wake, so it says why.
    assert blocks[2]["text"]["text"] == (
        "🟢 *ceo* · strong · last 3h ago (Mon 02 Mar 04:00) ✅ · next in 6d (Mon 09 Mar 05:00)\n"
        "⏸️ *cmo* · strong · last 3h ago (Mon 02 Mar 04:00) ✅ · next paused"
    )
    assert blocks[-1]["elements"][0]["text"] == "As of 2026-03-02 07:00 EST · times in America/New_York"
    assert status_text(report(venture_status())) == "Lumen status: Acme Analytics (growth, 2 approvals)"


def test_a_quiet_venture_without_agents_or_channel_id() -> None:
    never = agent_line(last_wake=None, last_run_status=None, next_wake=None, status="tripped")
    quiet = venture_status(channel_id=None, pending_approvals=0, agents=())
    blocks = valid_blocks(status_blocks(report(quiet, venture_status(2, agents=(never,)))))
    shown = texts(blocks)
    assert "*Acme Analytics* (`acme`) · #acme" in shown
    assert "*Approvals*\nnone waiting" in shown
    assert "_No agents declared in lumen.yml._" in shown
    assert "🛑 *ceo* · strong · last never · next tripped" in shown


def test_status_escapes_names_stages_and_roles() -> None:
    hostile = venture_status(name=HOSTILE, stage=HOSTILE, agents=(agent_line(role=HOSTILE),))
    shown = texts(valid_blocks(status_blocks(report(hostile))))
    assert f"*{HOSTILE_ESCAPED}* (`acme`)" in shown and f"*Stage*\n{HOSTILE_ESCAPED}" in shown
    assert_escaped(shown)


def test_a_hundred_ventures_show_what_fits_and_count_the_rest() -> None:
    """Each venture takes three blocks: 15 fit in a message, the footer says how to see the others."""
    ventures = [
        venture_status(i, name="N" * 500, agents=tuple(agent_line(role=f"role{j}") for j in range(60))) for i in range(1, 101)
    ]
    blocks = valid_blocks(status_blocks(report(*ventures)))
    assert len(blocks) <= MAX_BLOCKS_MESSAGE
    assert texts(blocks).count("(`acme") == 15
    assert blocks[-1]["elements"][0]["text"].endswith(" · 85 more: `/lumen status <venture>`")
    assert status_text(report(*ventures)).count("approvals)") == 100  # the fallback names them all


def test_as_of_is_printed_in_the_workspace_zone_like_every_other_time() -> None:
    """One zone a screen (issue 16): "as of" was UTC while the agents' times were local."""
    late = replace(report(venture_status(), tz="America/New_York"), as_of=datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc))
    assert status_blocks(late)[-1]["elements"][0]["text"].startswith("As of 2026-12-31 18:59 EST")
