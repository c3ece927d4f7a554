"""The App Home tab: the viewer's pending approvals with working buttons, then every venture."""

from __future__ import annotations

from lumen.render.common import header
from lumen.render.limits import MAX_BLOCKS_MODAL
from lumen.render.home import home_view
from tests.render.support import HOSTILE, approval_card, assert_escaped, report, texts, valid_view, venture_status


def test_a_new_workspace_home_says_there_is_nothing_yet() -> None:
    view = valid_view(home_view(report(), "U0ALICE"))
    assert view["type"] == "home"
    shown = texts(view["blocks"])
    assert view["blocks"][0]["text"]["text"].startswith("Hi <@U0ALICE>.")
    assert "Nothing is waiting for you. 🎉" in shown
    assert "_No ventures yet: declare them in `lumen.yml`._" in shown
    assert view["blocks"][-1]["elements"][0]["text"] == "`/lumen help` lists every command."


def test_one_venture_with_approvals_waiting_for_the_viewer() -> None:
    approvals = [approval_card(approval_id=1), approval_card(approval_id=2)]
    view = valid_view(home_view(report(venture_status()), "U0ALICE", approvals))
    blocks = view["blocks"]
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == ["approval:1", "approval:2"]
    # Approvals come before the ventures.
    assert blocks.index(header("Waiting for your approval")) < blocks.index(header("Ventures"))
    venture = next(b for b in blocks if b.get("text", {}).get("text", "").startswith("*Acme Analytics*"))
    assert venture["text"]["text"] == "*Acme Analytics* · growth"
    assert [f["text"] for f in venture["fields"]] == ["*Agents*\n2", "*Approvals waiting*\n2", "*Spend this month*\n$12.50"]
    assert "No ventures yet" not in texts(blocks)


def test_home_escapes_venture_names_and_approval_titles() -> None:
    view = home_view(report(venture_status(name=HOSTILE, stage=HOSTILE)), "U0ALICE", [approval_card(title=HOSTILE)])
    assert_escaped(texts(valid_view(view)["blocks"]))


def test_sixty_approvals_and_a_hundred_ventures_fit_the_home_tab() -> None:
    """The Home tab holds 100 blocks: twelve approvals, then as many ventures as fit."""
    approvals = [approval_card(approval_id=i, title="Long title " * 50) for i in range(1, 61)]
    ventures = [venture_status(i, name="N" * 3_000) for i in range(1, 101)]
    blocks = valid_view(home_view(report(*ventures), "U0ALICE", approvals))["blocks"]
    assert len(blocks) <= MAX_BLOCKS_MODAL
    assert len([b for b in blocks if b["type"] == "actions"]) == 12
    assert "…and 48 more." in texts(blocks)
    assert sum(1 for b in blocks if "fields" in b) == 35  # ventures shown in the room left
    # Without approvals, more ventures fit.
    roomy = valid_view(home_view(report(*ventures), "U0ALICE"))["blocks"]
    assert sum(1 for b in roomy if "fields" in b) == 47


def test_each_venture_shows_its_latest_flywheel_chart_but_a_private_one_does_not() -> None:
    alt = "Acme Analytics: success rate and spend per brain version: v3 80% of 5, $1.50"
    shared = venture_status(1, brain_version=3, chart_file="F0CHART1", chart_alt=alt)
    private = venture_status(2, brain_version=7, chart_file="F0CHART2", chart_alt="secret numbers", private=True)
    blocks = valid_view(home_view(report(shared, private, venture_status(3)), "U0ALICE"))["blocks"]
    [image] = [b for b in blocks if b["type"] == "image"]
    assert image["slack_file"] == {"id": "F0CHART1"} and image["alt_text"] == alt
    assert image["title"]["text"] == "Decisions per brain version (as of v3)"
    assert "secret numbers" not in str(blocks)
    # The chart sits under its venture.
    names = [b["text"]["text"] for b in blocks if b["type"] == "section" and "fields" in b]
    assert names == ["*Acme Analytics 1* · growth", "*Acme Analytics 2* · growth", "*Acme Analytics 3* · growth"]
    assert blocks[blocks.index(image) - 1]["text"]["text"] == "*Acme Analytics 1* · growth"


def test_charts_take_their_room_and_the_tab_still_fits() -> None:
    ventures = [venture_status(i, brain_version=i, chart_file=f"F0C{i}", chart_alt="x" * 3_000) for i in range(1, 101)]
    blocks = valid_view(home_view(report(*ventures), "U0ALICE"))["blocks"]
    assert len(blocks) <= MAX_BLOCKS_MODAL
    assert sum(1 for b in blocks if b["type"] == "image") == sum(1 for b in blocks if "fields" in b) > 20
