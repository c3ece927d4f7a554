"""Brains in Slack: a version of a venture's brain, the weekly summary, platform insights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lumen.domain.attribution import MIN_OUTCOMES, VersionScore
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


def _counts(data: dict[str, int]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(data.items())) or "none"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _label(score: VersionScore) -> str:
    return f"v{score.brain_version}" if score.brain_version else "before any brain"


def _score_line(score: VersionScore) -> str:
    if score.success_rate is None:
        quality = f"not enough data ({_n(score.with_outcome, 'outcome')}; {MIN_OUTCOMES} needed)"
    else:
        quality = f"*{score.success_rate:.0%}* success ({score.successes} of {score.with_outcome})"
    approval = f" · {score.approval_rate:.0%} approved" if score.approval_rate is not None else ""
    return f"• {_label(score)}: {_n(score.decisions, 'decision')} · {quality}{approval} · {usd(score.cost_usd)}"


def _too_early_line(scores: list[VersionScore]) -> str:
    """Versions in a row that each have too few outcomes to judge, said once rather than
    in a column of near-identical lines."""
    labels = [_label(s) for s in scores]
    span = f"{labels[0]} to {labels[-1]}" if len(labels) > 2 else f"{labels[0]} and {labels[1]}"
    decisions = sum(s.decisions for s in scores)
    outcomes = sum(s.with_outcome for s in scores)
    cost = usd(sum((s.cost_usd for s in scores), Decimal(0)))
    return (
        f"• {span}: {_n(decisions, 'decision')}, {_n(outcomes, 'outcome')} in all · not enough data yet"
        f" (each version needs {MIN_OUTCOMES} outcomes) · {cost}"
    )


def score_lines(scores: list[VersionScore]) -> list[str]:
    """One line per version that can be judged; runs of versions that cannot, one line each run."""
    lines: list[str] = []
    waiting: list[VersionScore] = []
    for score in [*scores, None]:
        if score is not None and score.success_rate is None:
            waiting.append(score)
            continue
        if len(waiting) == 1:
            lines.append(_score_line(waiting[0]))
        elif waiting:
            lines.append(_too_early_line(waiting))
        waiting = []
        if score is not None:
            lines.append(_score_line(score))
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
        section(
            clip(
                "*How each brain version performed*\n" + "\n".join(score_lines(summary.scores)),
                MAX_SECTION_TEXT,
            )
        ),
        divider(),
        context(escape(clip(summary.summary, 2900)) or "—"),
        context(f"`/lumen brain {summary.venture_slug}` shows the whole brain."),
    ]
    return check_blocks(blocks)


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
