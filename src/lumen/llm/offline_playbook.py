"""What the offline model writes, as pure functions of the context block (no litellm here).

It decides from the brain and insights it is given (see `offline_decide`), writes extractive
brains and insights, and answers from the records it is handed. Everything it writes says it
comes from the offline model.
"""

from __future__ import annotations

import json
from typing import Any

from lumen.domain.brain_schema import WRITE_BRAIN, WRITE_INSIGHTS
from lumen.domain.gate_check import CLASSIFY_DECISION, read_decision
from lumen.domain.proposals import PROPOSE_DECISIONS, ProposedDecision, ProposeDecisions
from lumen.domain.verdicts import VERIFY_DECISIONS
from lumen.llm.context_block import ContextBlock
from lumen.llm.offline_decide import Weighed, weigh

OFFLINE_MARK = "[offline model] "


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _who(ctx: ContextBlock) -> str:
    role = ctx.agent.role if ctx.agent else "agent"
    venture = ctx.venture.name if ctx.venture else "this venture"
    return f"{role} of {venture}"


def _why(ctx: ContextBlock, chosen: Weighed, left_out: dict[str, str]) -> str:
    """The evidence behind the choice, in words a person checks against the brain."""
    ev = chosen.evidence
    if ctx.brain_version is None:
        record = "there is no brain yet, so trying it teaches the venture something"
    elif ev.tries:
        record = f"brain v{ctx.brain_version} records {ev.worked} of {ev.tries} recent tries of it working"
    else:
        record = f"brain v{ctx.brain_version} has no record of it yet, so trying it teaches something"
    parts = [f"Chosen for the {_who(ctx)}: {record}."]
    if chosen.insight is not None:
        parts.append(f"Across ventures: {chosen.insight.text}")
    if chosen.item.rationale:
        parts.append(chosen.item.rationale)
    if left_out:
        parts.append("Left out: " + "; ".join(f"“{title}”, {reason}" for title, reason in list(left_out.items())[:3]) + ".")
    return " ".join(parts)


def decide(ctx: ContextBlock) -> ProposeDecisions:
    """The best-weighed move open to the agent, or none with a summary saying why."""
    weighed, left_out = weigh(ctx)
    if not weighed:
        why = "; ".join(f"“{title}”: {reason}" for title, reason in list(left_out.items())[:5])
        return ProposeDecisions(
            decisions=[],
            summary=_clip(
                f"{OFFLINE_MARK}Nothing to propose for the {_who(ctx)}: every playbook move is made, waiting "
                f"for a human, or was turned down lately ({why or 'the playbook is empty'}). Add moves to the "
                "venture's playbook in lumen.yml or configure a real model.",
                1000,
            ),
        )
    chosen = weighed[0]
    item = chosen.item
    decision = ProposedDecision(
        category=item.category,
        title=item.title,
        rationale=_clip(OFFLINE_MARK + _why(ctx, chosen, left_out), 2000),
        expected_effect=_clip(item.expected_effect, 500),
        amount_usd=item.amount_usd,
        follows_insight=_clip(chosen.insight.text, 500) if chosen.insight else None,
    )
    return ProposeDecisions(
        decisions=[decision],
        summary=_clip(f"{OFFLINE_MARK}The {_who(ctx)} chose “{item.title}” from {len(weighed)} open move(s).", 1000),
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
    """`write_brain` arguments: the draft Lumen computed from brain N and the outcomes since
    (in the block as `extra.draft`), written as it is: the offline model adds no judgement."""
    draft = ctx.extra.get("draft") or {}
    venture = ctx.venture.name if ctx.venture else "this venture"
    changes = [s for name in draft for s in draft.get(name, []) if isinstance(s, dict) and s.get("change") != "kept"]
    summary = (
        f"{OFFLINE_MARK}Brain for {venture} from {ctx.extra.get('decision_count', 0)} decision(s) since "
        f"v{ctx.brain_version or 0}: {len(changes)} statement(s) new or changed, each with the outcomes that changed it."
    )
    return json.dumps({name: draft.get(name, []) for name in ("principles", "worked", "failed", "open_bets", "questions")}
                      | {"summary": _clip(summary, 1500)})


def synthesize_insights(ctx: ContextBlock) -> str:
    """`write_insights` arguments: the net patterns Lumen computed across ventures (`extra.draft`)."""
    insights = ctx.extra.get("draft") or []
    ventures = ctx.extra.get("ventures") or 0
    summary = (
        f"{OFFLINE_MARK}{len(insights)} cross-venture insight(s) from {ventures} venture brains, each with its net record."
        if insights
        else f"{OFFLINE_MARK}No pattern holds across ventures yet."
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
    if ctx.task == "decide" and isinstance(ctx.extra.get("conversation"), dict) and PROPOSE_DECISIONS in tool_names:
        return {"tool": PROPOSE_DECISIONS, "arguments": converse_arguments(ctx)}
    if ctx.task == "verify" and VERIFY_DECISIONS in tool_names:
        return {"tool": VERIFY_DECISIONS, "arguments": verify_arguments(ctx)}
    if ctx.task == "decide":
        if PROPOSE_DECISIONS in tool_names:
            return {"tool": PROPOSE_DECISIONS, "arguments": decide_arguments(ctx)}
        return {"text": decide_text(ctx)}
    if ctx.task == "classify" and CLASSIFY_DECISION in tool_names:
        return {"tool": CLASSIFY_DECISION, "arguments": classify_arguments(ctx)}
    if ctx.task == "synthesize":
        if WRITE_BRAIN in tool_names:
            return {"tool": WRITE_BRAIN, "arguments": synthesize_brain(ctx)}
        if WRITE_INSIGHTS in tool_names:
            return {"tool": WRITE_INSIGHTS, "arguments": synthesize_insights(ctx)}
        return {"text": synthesize_text(ctx)}
    return {"text": answer_text(ctx)}


def converse_arguments(ctx: ContextBlock) -> str:
    """In a conversation the offline model decides nothing new: it says what it read."""
    thread = ctx.extra.get("conversation") or {}
    messages = [m for m in thread.get("messages", []) if isinstance(m, dict)]
    last = str(messages[-1].get("text", "")) if messages else ""
    reply = f"{OFFLINE_MARK}I read {len(messages)} message(s) here, the last: “{_clip(last, 200)}”. Nothing to change for now."
    return ProposeDecisions(decisions=[], summary="A conversation in Slack.", reply=_clip(reply, 3000)).model_dump_json()


def verify_arguments(ctx: ContextBlock) -> str:
    """The offline verifier objects to a decision that repeats what humans turned down."""
    turned_down = {str(r.get("title", "")).strip().lower() for r in ctx.extra.get("rejected", []) if isinstance(r, dict)}
    for number, decision in enumerate(ctx.extra.get("decisions", []), start=1):
        title = str(decision.get("title", ""))
        if title.strip().lower() in turned_down:
            objection = _clip(f"“{title}” was turned down by humans lately.", 900)
            return json.dumps({"consistent": False, "objection": objection, "objected": [number]})
    return json.dumps({"consistent": True, "objection": ""})


def classify_arguments(ctx: ContextBlock) -> str:
    """The offline model reads a decision as the rules do, and takes a hint for nothing."""
    decision = ctx.extra.get("decision") or {}
    reading = read_decision(str(decision.get("title", "")), str(decision.get("expected_effect", "")))
    amount = float(reading.amount_usd) if reading.amount_usd is not None else None
    return json.dumps({"kinds": list(reading.categories), "amount_usd": amount})
