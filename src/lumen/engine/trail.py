"""A run's trail, read back from its journal for people: Slack threads and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Decision, Run, Step
from lumen.slack.blocks.decisions import TrailStep


@dataclass(frozen=True)
class Trail:
    run_id: int
    status: str
    steps: list[TrailStep]


def summarize(step: Step) -> str:
    """One line about what a step did, for people skimming a trail."""
    out: dict[str, Any] = step.output or {}
    if step.name == "context":
        return f"brain v{out.get('brain_version') or '—'}, insight v{out.get('insight_version') or '—'}, {len(out.get('recent', []))} recent decisions"
    if step.kind.value == "llm_call":
        value = out.get("value", {})
        titles = [d.get("title", "") for d in value.get("decisions", [])]
        tokens = f"{out.get('prompt_tokens', 0)}+{out.get('completion_tokens', 0)} tokens"
        return f"{out.get('model', '?')} · {tokens} · proposed: " + ("; ".join(titles) or "nothing")
    if step.name.startswith("decision:"):
        decision = out.get("decision", {})
        gate = "needs approval" if out.get("gated") else "no gate"
        return f"{decision.get('title', '')} [{decision.get('category', '')}] · {gate}"
    return json.dumps(out, default=str)[:300]


async def run_trail(session: AsyncSession, run_id: int) -> Trail | None:
    run = await session.get(Run, run_id)
    if run is None:
        return None
    steps = (await session.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.seq))).all()
    return Trail(
        run_id=run_id,
        status=run.status.value,
        steps=[
            TrailStep(
                seq=s.seq,
                kind=s.kind.value,
                name=s.name,
                summary=summarize(s),
                cost_usd=s.cost_usd,
                latency_ms=s.latency_ms,
            )
            for s in steps
        ],
    )


async def decision_trail(session: AsyncSession, decision_id: int) -> Trail | None:
    decision = await session.get(Decision, decision_id)
    return await run_trail(session, decision.run_id) if decision else None
