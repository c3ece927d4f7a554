"""What the offline model writes, as pure functions of the context block (no litellm here).

It plays the venture's playbook in order: the next action for the agent's role that the
venture has not tried, the brain does not record as failed, and no human rejected.
Everything it writes says it comes from the offline model.
"""

from __future__ import annotations

import json
from typing import Any

from lumen.domain.brain_schema import WRITE_BRAIN, WRITE_INSIGHTS
from lumen.domain.proposals import PROPOSE_DECISIONS, ProposedDecision, ProposeDecisions
from lumen.llm.context_block import ContextBlock, PlaybookItem

OFFLINE_MARK = "[offline model] "


def _norm(title: str) -> str:
    return " ".join(title.casefold().split())


def _for_role(ctx: ContextBlock) -> list[PlaybookItem]:
    role = ctx.agent.role if ctx.agent else None
    return [item for item in ctx.playbook if item.role is None or item.role == role]


def next_action(ctx: ContextBlock) -> PlaybookItem | None:
    """The first playbook action this agent may still play, or None when exhausted."""
    done = {_norm(t) for t in ctx.tried} | {_norm(t) for t in ctx.failed}
    done |= {_norm(r.title) for r in ctx.rejected}
    return next((item for item in _for_role(ctx) if _norm(item.title) not in done), None)


def _skipped_notes(ctx: ContextBlock, before: PlaybookItem | None) -> list[str]:
    """Why earlier actions were passed over: the brain's failures and humans' rejections."""
    failed = {_norm(t) for t in ctx.failed}
    rejected = {_norm(r.title): r.reason for r in ctx.rejected}
    notes = []
    for item in _for_role(ctx):
        if item is before:
            break
        key = _norm(item.title)
        if key in rejected:
            reason = f": {rejected[key]}" if rejected[key] else ""
            notes.append(f"skipped '{item.title}' (rejected by a human{reason})")
        elif key in failed:
            notes.append(f"skipped '{item.title}' (the brain records it as failed)")
    return notes


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _who(ctx: ContextBlock) -> str:
    role = ctx.agent.role if ctx.agent else "agent"
    venture = ctx.venture.name if ctx.venture else "this venture"
    return f"{role} of {venture}"


def _matching_insight(ctx: ContextBlock, item: PlaybookItem) -> str | None:
    """A cross-venture insight that worked for this action's category, if there is one."""
    if ctx.insight is None:
        return None
    for entry in ctx.insight.items:
        if isinstance(entry, dict) and entry.get("category") == item.category and "worked" in entry.get("text", ""):
            return str(entry["text"])
    return None


def decide(ctx: ContextBlock) -> ProposeDecisions:
    """One decision from the playbook, or none with a summary saying it is exhausted."""
    item = next_action(ctx)
    if item is None:
        return ProposeDecisions(
            decisions=[],
            summary=_clip(
                f"{OFFLINE_MARK}The playbook for the {_who(ctx)} is exhausted: every action "
                "for this role has been tried, failed or was rejected. Nothing new to propose; "
                "add actions to the venture's playbook in lumen.yml or configure a real model.",
                1000,
            ),
        )
    steps = _for_role(ctx)
    position = steps.index(item) + 1
    brain = f"brain v{ctx.brain_version}" if ctx.brain_version is not None else "no brain yet"
    cites = [f"Playbook step {position} of {len(steps)} for the {_who(ctx)} ({brain})."]
    cites += [note[0].upper() + note[1:] + "." for note in _skipped_notes(ctx, item)]
    if item.rationale:
        cites.append(item.rationale)
    insight = _matching_insight(ctx, item)
    if insight:
        cites.append(f"A platform insight supports it: {insight}")
    decision = ProposedDecision(
        category=item.category,
        title=item.title,
        rationale=_clip(OFFLINE_MARK + " ".join(cites), 2000),
        expected_effect=_clip(item.expected_effect, 500),
        amount_usd=item.amount_usd,
        follows_insight=_clip(insight, 500) if insight else None,
    )
    return ProposeDecisions(
        decisions=[decision],
        summary=_clip(f"{OFFLINE_MARK}Next playbook step for the {_who(ctx)}: {item.title}.", 1000),
    )


def decide_arguments(ctx: ContextBlock) -> str:
    """`propose_decisions` arguments as the JSON a model would write."""
    return decide(ctx).model_dump_json()


def decide_text(ctx: ContextBlock) -> str:
    """The decide task without the tool: the same choice, in prose."""
    proposal = decide(ctx)
    if not proposal.decisions:
        return proposal.summary
    d = proposal.decisions[0]
    return f"{proposal.summary}\n{d.rationale}"


def synthesize_brain(ctx: ContextBlock) -> str:
    """`write_brain` arguments: brain N+1 from brain N and the facts since, grouped and cited."""
    from lumen.domain.brain import DecisionFact, extractive_brain

    previous = ctx.extra.get("previous") or {}
    facts = [DecisionFact(**f) for f in ctx.extra.get("decisions", [])]
    sections = extractive_brain(previous, facts)
    venture = ctx.venture.name if ctx.venture else "this venture"
    counts = ", ".join(f"{len(sections[k])} {k.replace('_', ' ')}" for k in sections)
    summary = (
        f"{OFFLINE_MARK}Extractive brain for {venture} from {len(facts)} decision(s) since "
        f"v{ctx.brain_version or 0}: {counts}. Grouped by category and outcome; every statement cites its decisions."
    )
    return json.dumps({**sections, "summary": _clip(summary, 1500)})


def synthesize_insights(ctx: ContextBlock) -> str:
    """`write_insights` arguments: what held across ventures."""
    from lumen.domain.insights import extractive_insights

    insights = extractive_insights(ctx.extra.get("brains") or {})
    summary = (
        f"{OFFLINE_MARK}{len(insights)} cross-venture insight(s) from {len(ctx.extra.get('brains') or {})} brains."
        if insights
        else f"{OFFLINE_MARK}No lesson holds across ventures yet."
    )
    return json.dumps({"insights": insights, "summary": summary})


def synthesize_text(ctx: ContextBlock) -> str:
    venture = ctx.venture.name if ctx.venture else "the platform"
    return (
        f"{OFFLINE_MARK}This synthesis of {venture} needs the write_brain or write_insights tool; "
        "the offline model writes its brains only through them."
    )


ANSWER_GROUPS = (
    ("success", "What worked"),
    ("failure", "What failed"),
    ("mixed", "Mixed results"),
    ("rejected", "Rejected by a human"),
    ("expired", "Expired before anyone decided"),
    ("awaiting_approval", "Waiting for approval"),
    ("pending", "No outcome yet"),
)


def _answer_group(record: dict[str, Any]) -> str:
    if record.get("status") in ("rejected", "expired", "awaiting_approval"):
        return str(record["status"])
    verdict = record.get("verdict")
    return verdict if verdict in ("success", "failure", "mixed") else "pending"


def _record_line(record: dict[str, Any]) -> str:
    line = f"• [#{record['decision_id']}] {record['title']} ({record['category']}, {record['created_at'][:10]})"
    if record.get("metric") and record.get("before") is not None and record.get("after") is not None:
        line += f" — {record['metric']} {record['before']:g} → {record['after']:g}"
    if record.get("outcome_note"):
        line += f" — {record['outcome_note']}"
    if record.get("corrected_from"):
        line += f" — first reported as {record['corrected_from']}, later corrected"
    if record.get("reason"):
        line += f" — rejected: {record['reason']}"
    return line


def answer_text(ctx: ContextBlock) -> str:
    """An extractive answer: the retrieved records grouped by how they turned out, each cited."""
    records = ctx.extra.get("records") or []
    scope = ctx.extra.get("scope") or "this question"
    if not records:
        return f"{OFFLINE_MARK}Nothing recorded for {scope}."
    parts = [f"{OFFLINE_MARK}Recorded for {scope}: {len(records)} decision(s)."]
    if ctx.extra.get("summary"):
        parts.append(str(ctx.extra["summary"]))
    for key, title in ANSWER_GROUPS:
        group = [r for r in records if _answer_group(r) == key]
        if group:
            parts.append(f"*{title}*\n" + "\n".join(_record_line(r) for r in group))
    return "\n\n".join(parts)


def no_context_text() -> str:
    return (
        f"{OFFLINE_MARK}The prompt carries no <lumen-context> block, so the offline model "
        "has nothing to play from. It answers Lumen's own prompts only."
    )


def respond(ctx: ContextBlock | None, tool_names: list[str]) -> dict[str, Any]:
    """What the offline model answers: {"text": ...} or {"tool": name, "arguments": json}."""
    if ctx is None:
        return {"text": no_context_text()}
    if ctx.task == "decide":
        if PROPOSE_DECISIONS in tool_names:
            return {"tool": PROPOSE_DECISIONS, "arguments": decide_arguments(ctx)}
        return {"text": decide_text(ctx)}
    if ctx.task == "synthesize":
        if WRITE_BRAIN in tool_names:
            return {"tool": WRITE_BRAIN, "arguments": synthesize_brain(ctx)}
        if WRITE_INSIGHTS in tool_names:
            return {"tool": WRITE_INSIGHTS, "arguments": synthesize_insights(ctx)}
        return {"text": synthesize_text(ctx)}
    return {"text": answer_text(ctx)}
