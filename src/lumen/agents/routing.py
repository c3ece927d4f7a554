"""A wake-up's decision, read for routing (domain.routing): its features, from the context.

The policy is the agent's `routing:` in lumen.yml, or the workspace's.
"""

from __future__ import annotations

from dataclasses import replace

from lumen.agents.steps import WakeContext
from lumen.domain.brain import move_key
from lumen.domain.config import LumenConfig
from lumen.domain.gate_check import read_decision
from lumen.domain.gates import EffectiveRule, check_gate
from lumen.domain.routing import DecisionTask, RoutingPolicy
from lumen.llm.context_block import PlaybookItem


def policy_for(config: LumenConfig, venture_slug: str, role: str) -> RoutingPolicy:
    venture = config.venture(venture_slug)
    agent = next((a for a in venture.agents if a.role == role), None) if venture else None
    return (agent.routing if agent is not None else None) or config.workspace.routing


def decision_task(context: WakeContext, rules: dict[str, EffectiveRule]) -> DecisionTask:
    """Open moves are the agent's playbook moves not yet made (repeatable ones stay open);
    a weighty one would meet a gate: the check a decision gets (`check_gate`, by its label,
    amount and words), with the venture's effective gate policy. Money under its category's
    threshold, or spent in an everyday ungated category, is what the operator said needs no
    human, and so no judgement beyond the routine; a paid move nobody can size is weighty."""
    block = context.block
    role = block.agent.role if block.agent else None
    made = {move_key(s.title) for s in block.since_brain} | {move_key(m.title) for s in block.brain for m in s.moves}
    open_moves = [
        item for item in block.playbook
        if (item.role is None or item.role == role) and (item.repeatable or move_key(item.title) not in made)
    ]
    weighty = sum(1 for item in open_moves if _would_be_gated(item, rules))
    return DecisionTask(
        open_moves=len(open_moves),
        weighty_moves=weighty,
        has_brain=context.brain_version is not None,
        since_brain=len(block.since_brain),
        pending_approvals=len(block.pending),
        recent_rejections=len(block.rejected),
    )


def _would_be_gated(item: PlaybookItem, rules: dict[str, EffectiveRule]) -> bool:
    reading = read_decision(item.title, item.expected_effect)
    # Words the rules cannot read ("500 signups") send a real decision to the fast model's
    # reading, not straight to a human: here its label and amount decide, as the operator set them.
    if not reading.sure:
        reading = replace(reading, sure=True)
    return check_gate(rules, item.category, item.amount_usd, reading).rule is not None


def summary(task: DecisionTask) -> str:
    """What the routing model reads: the features, not the context."""
    return (
        f"An agent picks its next moves. Open playbook moves: {task.open_moves}, of which need a human's approval: "
        f"{task.weighty_moves}. Brain: {'yes' if task.has_brain else 'none yet'}. Decisions since the brain: "
        f"{task.since_brain}. Waiting for approval: {task.pending_approvals}. Rejected lately: {task.recent_rejections}."
    )
