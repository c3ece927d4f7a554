"""Brains in Slack: a version of a venture's brain, the weekly summary, platform insights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lumen.domain.attribution import MIN_OUTCOMES, VersionScore, pool_thin
from lumen.render.common import clock, context, divider, escape, header, section, usd
from lumen.render.limits import MAX_SECTION_TEXT, Block, check_blocks, clip

SECTION_TITLES = {
    "principles": "🧭 Principles",
    "worked": "✅ What worked",
    "failed": "❌ What failed",
    "open_bets": "🎲 Open bets",
    "questions": "❓ Questions",
}


@dataclass(frozen=True)
class BrainView:
    venture_name: str
    venture_slug: str
    version: int
    created_at: datetime
    sections: dict[str, list[dict[str, Any]]]
    summary: str
    latest_version: int
    tz: str = "UTC"  # the workspace's zone, for "built at"


def _statement(s: dict[str, Any]) -> str:
    cites = ", ".join(f"#{i}" for i in s.get("decision_ids", []))
    return f"• {escape(s['text'])} _({cites})_"


def _section_text(title: str, statements: list[dict[str, Any]]) -> str:
    body = "\n".join(_statement(s) for s in statements) or "_nothing yet_"
    return clip(f"*{title}*\n{body}", MAX_SECTION_TEXT)


def brain_blocks(view: BrainView) -> list[Block]:
    older = f" (latest is v{view.latest_version})" if view.version != view.latest_version else ""
    blocks: list[Block] = [header(f"🧠 {view.venture_name} · brain v{view.version}{older}")]
    if view.summary:
        blocks.append(context(escape(clip(view.summary, 2900))))
    for key, title in SECTION_TITLES.items():
        blocks.append(section(_section_text(title, view.sections.get(key, []))))
    blocks.append(
        context(
            f"Built {clock(view.created_at, view.tz, '%Y-%m-%d %H:%M')} · #N are decision numbers"
            f" · `lumen brain diff {view.venture_slug} N M`"
        )
    )
    return check_blocks(blocks)


@dataclass(frozen=True)
class WeeklySummary:
    venture_name: str
    venture_slug: str
    version: int
    week: str
    diff_lines: list[str]
    stats: dict[str, Any]
    scores: list[VersionScore]
    summary: str
    chart_file: str | None = None  # the uploaded chart's file id (or the outbox's placeholder for it)
    chart_alt: str = ""


def _counts(data: dict[str, int]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(data.items())) or "none"


SCORES_SHOWN = 8


def _score_line(score: VersionScore) -> str:
    if score.success_rate is None:
        return f"• {score.label}: too few outcomes to judge yet ({score.with_outcome} so far; {MIN_OUTCOMES} needed)"
    quality = f"*{score.success_rate:.0%}* success ({score.successes} of {score.with_outcome})"
    approval = f" · {score.approval_rate:.0%} approved" if score.approval_rate is not None else ""
    noun = "decision" if score.decisions == 1 else "decisions"
    return f"• {score.label}: {score.decisions} {noun} · {quality}{approval} · {usd(score.cost_usd)}"


def score_lines(scores: list[VersionScore], slug: str) -> list[str]:
    """The latest versions' records. Versions too thin to judge alone are pooled with their
    neighbours ("v3–v5"); a latest run still too thin says so in one line."""
    pooled = pool_thin(scores)
    shown = pooled[-SCORES_SHOWN:]
    lines = [_score_line(score) for score in shown]
    if len(pooled) > len(shown):
        older = f"_Older versions: see the chart, or `lumen brain show {slug} N`._"
        lines.insert(0, older)
    return lines


def weekly_summary_blocks(summary: WeeklySummary) -> list[Block]:
    changes = "\n".join(escape(line) for line in summary.diff_lines[:25]) or "_No change in the brain this week._"
    if len(summary.diff_lines) > 25:
        changes += f"\n…and {len(summary.diff_lines) - 25} more: `lumen brain diff {summary.venture_slug} {summary.version - 1} {summary.version}`"
    stats = summary.stats
    blocks: list[Block] = [
        header(f"🧠 {summary.venture_name} · weekly brain v{summary.version} · {summary.week}"),
        section(
            "*The week*",
            fields=[
                f"*Decisions*\n{_counts(stats.get('decisions', {}))}",
                f"*Approvals*\n{_counts(stats.get('approvals', {}))}",
                f"*Outcomes*\n{_counts(stats.get('outcomes', {}))}",
                f"*Spend*\n{usd(float(stats.get('spend_usd', 0)))}",
            ],
        ),
        section(clip(f"*What changed since v{summary.version - 1}*\n{changes}", MAX_SECTION_TEXT)),
        *_chart(summary),
        section(
            clip(
                "*How each brain version performed*\n"
                + "\n".join(score_lines(summary.scores, summary.venture_slug)),
                MAX_SECTION_TEXT,
            )
        ),
        divider(),
        context(escape(clip(summary.summary, 2900)) or "—"),
        context(f"`/lumen brain {summary.venture_slug}` shows the whole brain."),
    ]
    return check_blocks(blocks)


def _chart(summary: WeeklySummary) -> list[Block]:
    if not summary.chart_file:
        return []
    return [
        {
            "type": "image",
            "slack_file": {"id": summary.chart_file},
            "alt_text": clip(summary.chart_alt or "Success rate and spend per brain version", 2000),
            "title": {"type": "plain_text", "text": "Success rate and spend per brain version"},
        }
    ]


def weekly_summary_text(summary: WeeklySummary) -> str:
    return f"{summary.venture_name}: weekly brain v{summary.version} ({summary.week})"


def insights_blocks(version: int, week: str | None, insights: list[dict[str, Any]], summary: str) -> list[Block]:
    lines = "\n".join(
        f"• {escape(i['text'])} _({', '.join('#' + str(d) for d in i.get('decision_ids', [])[:8])})_" for i in insights
    ) or "_No lesson holds across ventures yet._"
    return check_blocks(
        [
            header(f"🌐 Platform insights v{version}" + (f" · {week}" if week else "")),
            section(clip(lines, MAX_SECTION_TEXT)),
            context(escape(clip(summary, 2900)) or "—"),
            context("Every agent reads these before it decides."),
        ]
    )
