"""`/lumen status`: ventures, stage, agents, approvals waiting, spend this month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lumen.render.common import clock, context, divider, escape, header, section, usd, when
from lumen.render.limits import MAX_BLOCKS_MESSAGE, Block, check_blocks
from lumen.render.tables import table


@dataclass(frozen=True)
class AgentLine:
    role: str
    status: str
    model_tier: str
    schedule: str
    budget_usd_month: Decimal
    last_wake: datetime | None
    last_run_status: str | None
    next_wake: datetime | None


@dataclass(frozen=True)
class VentureStatus:
    slug: str
    name: str
    stage: str
    channel: str
    channel_id: str | None
    agents: tuple[AgentLine, ...]
    pending_approvals: int
    spend_month_usd: Decimal
    budget_month_usd: Decimal
    private: bool = False
    brain_version: int | None = None  # the newest version with a chart in Slack
    chart_file: str | None = None
    chart_alt: str = ""


@dataclass(frozen=True)
class StatusReport:
    ventures: tuple[VentureStatus, ...]
    as_of: datetime
    timezone: str
    narrowed_to_channel: bool = False  # asked in a venture's channel: only that venture


STATUS_ICON = {"active": "🟢", "paused": "⏸️", "tripped": "🛑"}
RUN_ICON = {
    "succeeded": "✅",
    "failed": "❌",
    "running": "⏳",
    "queued": "🕒",
    "awaiting_approval": "✋",
    "cancelled": "⛔",
}
BLOCKS_PER_VENTURE = 4


def _agent_line(agent: AgentLine, tz: str, report: StatusReport) -> str:
    last = when(agent.last_wake, tz, report.as_of)
    if agent.last_run_status:
        last += f" {RUN_ICON.get(agent.last_run_status, '')}".rstrip()
    nxt = when(agent.next_wake, tz, report.as_of) if agent.next_wake else agent.status
    return (
        f"{STATUS_ICON.get(agent.status, '•')} *{escape(agent.role)}* · {agent.model_tier}"
        f" · last {last} · next {nxt}"
    )


def _venture_blocks(venture: VentureStatus, report: StatusReport) -> list[Block]:
    channel = f"<#{venture.channel_id}>" if venture.channel_id else f"#{venture.channel}"
    approvals = (
        f"✋ *{venture.pending_approvals}* waiting" if venture.pending_approvals else "none waiting"
    )
    agents = "\n".join(_agent_line(a, report.timezone, report) for a in venture.agents)
    return [
        section(
            f"*{escape(venture.name)}* (`{venture.slug}`) · {channel}",
            fields=[
                f"*Stage*\n{escape(venture.stage)}",
                f"*Approvals*\n{approvals}",
                f"*Spend this month*\n{usd(venture.spend_month_usd)}"
                f" of {usd(venture.budget_month_usd)}",
                f"*Agents*\n{len(venture.agents)}",
            ],
        ),
        section(agents or "_No agents declared in lumen.yml._"),
        divider(),
    ]


def status_blocks(report: StatusReport) -> list[Block]:
    if not report.ventures:
        return check_blocks(
            [
                header("Lumen status"),
                section(
                    "No ventures yet. Declare them in `lumen.yml` and run `lumen sync` "
                    "(or restart `lumen serve`)."
                ),
            ]
        )
    blocks: list[Block] = [header("Lumen status")]
    room = MAX_BLOCKS_MESSAGE - 2  # header, and a context line at the end
    shown = 0
    for venture in report.ventures:
        part = _venture_blocks(venture, report)
        if len(blocks) + len(part) > room:
            break
        blocks += part
        shown += 1
    footer = f"As of {clock(report.as_of, report.timezone, '%Y-%m-%d %H:%M')} · times in {report.timezone}"
    if shown < len(report.ventures):
        footer += f" · {len(report.ventures) - shown} more: `/lumen status <venture>`"
    if report.narrowed_to_channel:
        footer += " · this channel's venture; `/lumen status all` shows every one"
    blocks.append(context(footer))
    return check_blocks(blocks)


def status_text(report: StatusReport) -> str:
    """The notification and screen-reader fallback for the status blocks."""
    if not report.ventures:
        return "Lumen status: no ventures yet."
    parts = [f"{escape(v.name)} ({v.stage}, {v.pending_approvals} approvals)" for v in report.ventures]
    return "Lumen status: " + "; ".join(parts)


def status_table(report: StatusReport) -> str:
    """`lumen status` in a terminal: each venture, then its agents under a header."""
    if not report.ventures:
        return "No ventures yet. Declare them in lumen.yml and run `lumen sync`."
    parts = []
    for v in report.ventures:
        rows = [
            (
                a.role,
                a.status,
                a.model_tier,
                when(a.last_wake, report.timezone, report.as_of) + (f" ({a.last_run_status})" if a.last_run_status else ""),
                when(a.next_wake, report.timezone, report.as_of) if a.next_wake else "—",
            )
            for a in v.agents
        ]
        parts.append(
            f"{v.name} ({v.slug}) · {v.stage} · #{v.channel}\n"
            f"  approvals waiting: {v.pending_approvals} · spend this month: "
            f"{usd(v.spend_month_usd)} of {usd(v.budget_month_usd)}\n"
            + table(("AGENT", "STATUS", "MODEL", "LAST WAKE", "NEXT WAKE"), rows, indent="  ")
        )
    parts.append(f"times in {report.timezone}")
    return "\n\n".join(parts)
