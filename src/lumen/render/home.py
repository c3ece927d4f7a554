"""The App Home tab: the viewer's pending approvals first, then every venture at a glance."""

from __future__ import annotations

from typing import Any

from lumen.render.approvals import ApprovalCard, pending_list_blocks
from lumen.render.common import context, divider, escape, header, section, usd
from lumen.render.limits import MAX_BLOCKS_MODAL, Block, check_blocks
from lumen.render.status import StatusReport


def home_view(
    report: StatusReport, user_id: str, approvals: list[ApprovalCard] | None = None, note: str | None = None
) -> dict[str, Any]:
    """`note`: what just happened to the viewer's own click here (approved, or why not)."""
    blocks: list[Block] = [section(f"Hi <@{user_id}>. Here is what is waiting for you, and what your ventures are doing.")]
    if note:
        blocks.append(context(note))
    blocks += pending_list_blocks(approvals or [], heading="Waiting for your approval")
    blocks += [divider(), header("Ventures")]
    room = MAX_BLOCKS_MODAL - len(blocks) - 1
    for venture in report.ventures[: room // 2]:
        blocks.append(
            section(
                f"*{escape(venture.name)}* · {escape(venture.stage)}",
                fields=[
                    f"*Agents*\n{len(venture.agents)}",
                    f"*Approvals waiting*\n{venture.pending_approvals}",
                    f"*Spend this month*\n{usd(venture.spend_month_usd)}",
                ],
            )
        )
        blocks.append(divider())
    if not report.ventures:
        blocks.append(section("_No ventures yet: declare them in `lumen.yml`._"))
    blocks.append(context("`/lumen help` lists every command."))
    return {"type": "home", "blocks": check_blocks(blocks, modal=True)}
