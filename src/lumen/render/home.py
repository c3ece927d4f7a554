"""The App Home tab: the viewer's pending approvals first, then every venture at a glance."""

from __future__ import annotations

from typing import Any

from lumen.render.approvals import ApprovalCard, pending_list_blocks
from lumen.render.home_costs import HomeCosts, home_costs_blocks
from lumen.render.common import clip, context, divider, escape, header, section, usd
from lumen.render.questions import QuestionCard, pending_questions_blocks
from lumen.render.limits import MAX_BLOCKS_MODAL, Block, check_blocks
from lumen.render.status import StatusReport, VentureStatus


def _chart(venture: VentureStatus) -> list[Block]:
    """The venture's flywheel chart, from its latest weekly summary. A private venture's stays in
    its channel: App Home is seen by everyone in the workspace."""
    if not venture.chart_file or venture.private:
        return []
    return [
        {
            "type": "image",
            "slack_file": {"id": venture.chart_file},
            "alt_text": clip(venture.chart_alt or f"{venture.name}: success rate and spend per brain version", 2000),
            "title": {"type": "plain_text", "text": clip(f"Decisions per brain version (as of v{venture.brain_version})", 2000)},
        }
    ]


def home_view(
    report: StatusReport,
    user_id: str,
    approvals: list[ApprovalCard] | None = None,
    note: str | None = None,
    *,
    questions: list[QuestionCard] | None = None,
    costs: HomeCosts | None = None,
) -> dict[str, Any]:
    """`note`: what just happened to the viewer's own click here (approved, or why not);
    `questions`: agents' questions the viewer may answer, listed beside the approvals;
    `costs`: the month's spend of the ventures the viewer may see (render/home_costs.py)."""
    blocks: list[Block] = [section(f"Hi <@{user_id}>. Here is what is waiting for you, and what your ventures are doing.")]
    if note:
        blocks.append(context(note))
    blocks += pending_list_blocks(approvals or [], heading="Waiting for your approval")
    blocks += pending_questions_blocks(questions or [])
    blocks += [divider(), header("Ventures")]
    costs_section = home_costs_blocks(costs) if costs else []
    room = MAX_BLOCKS_MODAL - 1 - len(costs_section)  # the footer, and the costs
    for venture in report.ventures:
        card = [
            section(
                f"*{escape(venture.name)}* · {escape(venture.stage)}",
                fields=[
                    f"*Agents*\n{len(venture.agents)}",
                    f"*Approvals waiting*\n{venture.pending_approvals}",
                    f"*Spend this month*\n{usd(venture.spend_month_usd)}",
                ],
            ),
            *_chart(venture),
            divider(),
        ]
        if len(blocks) + len(card) > room:
            break
        blocks += card
    if not report.ventures:
        blocks.append(section("_No ventures yet: declare them in `lumen.yml`._"))
    blocks += costs_section
    blocks.append(context("`/lumen help` lists every command."))
    return {"type": "home", "blocks": check_blocks(blocks, modal=True)}
