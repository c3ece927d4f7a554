"""The wake-up prompt: prose for the model, plus the machine-readable context block."""

from __future__ import annotations

from typing import Any

from lumen.agents.steps import WakeContext
from lumen.errors import Invariant
from lumen.llm.context_block import render_context_block

SYSTEM = """You are the {role} agent of {name}, a venture run by AI agents and overseen by humans in Slack.
You wake up on a schedule, read the venture's state, and decide what to do next.
Call the `propose_decisions` tool exactly once, with at most five decisions (or none if nothing is worth doing).
Prefer the next untried playbook action; never repeat what the brain records as failed or what humans rejected,
and take rejection reasons into account. Categories such as pricing_change, stage_transition,
customer_commitment, resource_allocation, new_dependency and security may go to a human for approval.
If a platform insight guided a decision, say which in `follows_insight`."""


def _history(context: WakeContext) -> str:
    if not context.recent:
        return "No decisions yet."
    lines = []
    for d in context.recent:
        line = f"- #{d.id} [{d.category}] {d.title} — {d.status}"
        if d.outcome:
            line += f", outcome: {d.outcome}"
        if d.reason:
            line += f", rejected because: {d.reason}"
        lines.append(line)
    return "\n".join(lines)


def build_messages(context: WakeContext) -> list[dict[str, Any]]:
    block = context.block
    venture, agent = block.venture, block.agent
    if venture is None or agent is None:
        raise Invariant("a decide context without its venture or agent")
    goals = "\n".join(f"- {g}" for g in venture.goals) or "- (none stated)"
    brain = (
        f"Brain version {context.brain_version}:\n{context.brain_summary}"
        if context.brain_version
        else "No brain yet: this venture has not been synthesised."
    )
    insight = (
        "Platform insights (version {v}):\n{items}".format(
            v=block.insight.version,
            items="\n".join(f"- {i if isinstance(i, str) else i.get('text', i)}" for i in block.insight.items),
        )
        if block.insight
        else "No platform insights yet."
    )
    user = "\n\n".join(
        [
            f"Venture: {venture.name} ({venture.slug}), stage: {venture.stage}.\nGoals:\n{goals}",
            brain,
            insight,
            f"Recent decisions:\n{_history(context)}",
            "Open approvals: " + (", ".join(block.open_approvals) or "none"),
            "Structured context (authoritative):\n" + render_context_block(block),
        ]
    )
    return [
        {"role": "system", "content": SYSTEM.format(role=agent.role, name=venture.name)},
        {"role": "user", "content": user},
    ]
