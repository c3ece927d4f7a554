"""Shared helpers for the render tests: hostile text, a second opinion on Slack's limits, text search."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block as SdkBlock
from slack_sdk.models.views import View

from lumen.render.approvals import ApprovalCard
from lumen.render.limits import MAX_BLOCKS_MESSAGE, MAX_BLOCKS_MODAL, check_blocks
from lumen.render.status import AgentLine, StatusReport, VentureStatus

# What a model or a user might write to ping everyone or smuggle a link into a message.
HOSTILE = "<!channel> <@U123> <https://evil|click> & co"
HOSTILE_ESCAPED = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; &amp; co"
LIVE_TOKENS = ("<!channel>", "<@U123>", "<https://evil|click>")

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def valid_blocks(blocks: list[dict[str, Any]], *, modal: bool = False) -> list[dict[str, Any]]:
    """Assert the blocks would be accepted by Slack, checked independently by slack_sdk and by
    Lumen's own `check_blocks`; return them for further assertions."""
    assert blocks, "Slack rejects an empty blocks list"
    assert len(blocks) <= (MAX_BLOCKS_MODAL if modal else MAX_BLOCKS_MESSAGE)
    check_blocks(blocks, modal=modal)
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"
    for block in blocks:
        parsed = SdkBlock.parse(block)
        assert parsed is not None, f"slack_sdk does not know {block!r}"
        parsed.validate_json()
        # slack_sdk does not check these two, Slack does: a section needs non-empty text or fields.
        if block["type"] == "section":
            assert block.get("text", {}).get("text", "").strip() or block.get("fields"), f"empty section {block!r}"
            for item in block.get("fields", []):
                assert 0 < len(item["text"]) <= 2000
    return blocks


def valid_view(view: dict[str, Any]) -> dict[str, Any]:
    """Assert a modal or Home tab view is valid: its blocks, title, metadata and callback id."""
    valid_blocks(view["blocks"], modal=True)
    View(**view).validate_json()
    return view


def texts(node: Any) -> str:
    """Every `text` string in a blocks payload or view, joined, for 'does it say X' assertions."""
    out: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if isinstance(item.get("text"), str):
                out.append(item["text"])
            for value in item.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return "\n".join(out)


def assert_escaped(text: str) -> None:
    """HOSTILE came out inert: escaped entities, no live mention, broadcast or link."""
    assert HOSTILE_ESCAPED in text, text
    for token in LIVE_TOKENS:
        assert token not in text, f"{token} would be live in Slack"


# Inputs the builders take, with plain defaults; tests override what they are about.


def approval_card(**overrides: Any) -> ApprovalCard:
    base = ApprovalCard(
        approval_id=314,
        decision_id=27,
        venture_name="Acme Analytics",
        venture_slug="acme",
        agent_role="ceo",
        category="resource_allocation",
        title="Hire a contract customer success manager",
        rationale="Onboarding calls doubled activation last quarter.",
        expected_effect="Activation from 30% to 45%",
        amount_usd=Decimal("4000"),
        brain_version=3,
        run_id=88,
        approvers={"users": ["U0ALICE"]},
        quorum=1,
        expires_at=datetime(2026, 3, 3, 17, 30, tzinfo=timezone.utc),
    )
    return replace(base, **overrides)


def agent_line(**overrides: Any) -> AgentLine:
    base = AgentLine(
        role="ceo",
        status="active",
        model_tier="strong",
        schedule="0 9 * * 1",
        budget_usd_month=Decimal("50"),
        last_wake=datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc),
        last_run_status="succeeded",
        next_wake=datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc),
    )
    return replace(base, **overrides)


def venture_status(n: int = 0, **overrides: Any) -> VentureStatus:
    base = VentureStatus(
        slug=f"acme{n or ''}",
        name=f"Acme Analytics {n}" if n else "Acme Analytics",
        stage="growth",
        channel="acme",
        channel_id="C0ACME",
        agents=(agent_line(), agent_line(role="cmo", status="paused", next_wake=None)),
        pending_approvals=2,
        spend_month_usd=Decimal("12.5"),
        budget_month_usd=Decimal("100"),
    )
    return replace(base, **overrides)


def report(*ventures: VentureStatus, tz: str = "Europe/London") -> StatusReport:
    return StatusReport(ventures=tuple(ventures), as_of=NOW, timezone=tz)
