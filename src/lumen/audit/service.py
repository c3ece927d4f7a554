"""The audit trail for operators and Slack: `lumen runs list | show | diff | replay`, and the
trail a decision's "Show trail in thread" button posts. Reads the journal as stored JSON, so
it shows runs of every kind and every age.
"""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.audit import repository
from lumen.db.models import Run, RunKind, RunStatus, RunTrigger, Step
from lumen.engine import runs
from lumen.errors import LumenError, NotFound
from lumen.render.decisions import TrailStep
from lumen.render.tables import table


@dataclass(frozen=True)
class RunRow:
    run: Run
    subject: str  # what the run was about: "acme/ceo", "acme · brain synthesis", "platform synthesis"


def run_subject(run: Run, slug: str | None, role: str | None) -> str:
    if run.kind == RunKind.PLATFORM_SYNTHESIS:
        return "platform synthesis"
    if run.kind == RunKind.SYNTHESIS:
        return f"{slug or '?'} · brain synthesis"
    return f"{slug or '?'}/{role or '?'}"


async def list_runs(
    session: AsyncSession, *, venture: str | None = None, status: str | None = None, limit: int = 20
) -> Sequence[RunRow]:
    wanted = None
    if status:
        try:
            wanted = RunStatus(status)
        except ValueError:
            raise LumenError(f"unknown status {status!r}; one of: {', '.join(s.value for s in RunStatus)}") from None
    rows = await repository.runs(session, venture=venture, status=wanted, limit=limit)
    return [RunRow(run, run_subject(run, slug, role)) for run, slug, role in rows]


def runs_table(rows: Sequence[RunRow], tz: str) -> str:
    """`lumen runs list`: one line a run, under a header, times in the workspace's zone."""
    zone = ZoneInfo(tz)
    lines = []
    for row in rows:
        run = row.run
        trigger = f"replay of #{run.replay_of_run_id}" if run.replay_of_run_id else run.trigger.value
        lines.append(
            (
                f"#{run.id}",
                f"{run.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
                row.subject,
                trigger,
                run.status.value,
                f"${run.cost_usd:.4f}",
                (run.error or "")[:60],
            )
        )
    return table(("RUN", f"CREATED ({tz})", "WHAT", "TRIGGER", "STATUS", "COST", "ERROR"), lines)


async def _load(session: AsyncSession, run_id: int) -> tuple[Run, list[Step]]:
    found = await repository.run_with_steps(session, run_id)
    if found is None:
        raise NotFound(f"no run #{run_id}")
    return found


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


async def show_run(session: AsyncSession, run_id: int) -> str:
    run, steps = await _load(session, run_id)
    lines = [
        f"run #{run.id} · {run.kind.value} · trigger {run.trigger.value} · {run.status.value}",
        f"key {run.idempotency_key}",
        f"brain v{run.brain_version or '—'} · insight v{run.insight_version or '—'} · cost ${run.cost_usd:.6f}"
        f" · attempts {run.attempts} · epoch {run.epoch}",
        f"created {run.created_at.isoformat()} · started {run.started_at and run.started_at.isoformat()}"
        f" · finished {run.finished_at and run.finished_at.isoformat()}",
    ]
    if run.replay_of_run_id:
        lines.append(f"replay of run #{run.replay_of_run_id} (no Slack side effects)")
    if run.error:
        lines.append(f"error: {run.error}")
    for step in steps:
        lines.append("")
        lines.append(
            f"── step {step.seq}: {step.kind.value} {step.name} · {step.latency_ms} ms · ${step.cost_usd:.6f}"
            f" · epoch {step.epoch} · {step.created_at.isoformat()}"
        )
        output = dict(step.output or {})
        if step.name.startswith("route:"):
            lines.append(f"routed to the {output.get('tier')} tier by {output.get('by')}: {output.get('why')}")
        if step.name.startswith("escalate:"):
            lines.append(f"escalated to the strong tier: {output.get('reason')}")
        if isinstance(output.get("call"), dict):  # a fast-tier try (engine/routed_step.py)
            output = {**output.pop("call"), **output}
        prompt = (step.input or {}).get("messages")
        if prompt:
            lines.append("prompt:")
            for message in prompt:
                lines.append(f"  [{message.get('role')}] {message.get('content')}")
        if output.get("tool_arguments"):
            lines.append(f"tool call {output.get('tool_name')}: {output['tool_arguments']}")
        if output.get("text"):
            lines.append(f"response: {output['text']}")
        rest = {k: v for k, v in output.items() if k not in ("tool_arguments", "text", "value", "block")}
        if rest:
            lines.append("output: " + _dump(rest))
    return "\n".join(lines)


def _comparable(run: Run, steps: list[Step]) -> list[str]:
    lines = [f"status: {run.status.value}", f"brain: v{run.brain_version}", f"insight: v{run.insight_version}"]
    for step in steps:
        out = step.output or {}
        if isinstance(out.get("call"), dict):  # a fast-tier try holds its call
            out = {**out, **out["call"]}
        lines.append(f"step {step.seq} {step.kind.value} {step.name}")
        if "model" in out:
            lines.append(f"  model: {out['model']}")
        for decision in (out.get("value") or {}).get("decisions", []):
            lines.append(f"  proposed: [{decision.get('category')}] {decision.get('title')}")
            lines.append(f"    amount: {decision.get('amount_usd')}")
            lines.append(f"    rationale: {decision.get('rationale')}")
        if "decision" in out:
            lines.append(f"  gated: {out.get('gated')}")
        if "reason" in out:
            lines.append(f"  reason: {out['reason']}")
    return lines


async def diff_runs(session: AsyncSession, a: int, b: int) -> str:
    run_a, steps_a = await _load(session, a)
    run_b, steps_b = await _load(session, b)
    diff = difflib.unified_diff(
        _comparable(run_a, steps_a), _comparable(run_b, steps_b), f"run #{a}", f"run #{b}", lineterm=""
    )
    return "\n".join(diff) or f"runs #{a} and #{b} made the same decisions the same way"


async def create_replay(session: AsyncSession, run_id: int, model: str | None) -> int:
    """A new run from the same inputs as `run_id`, which posts nothing to Slack."""
    original, steps = await _load(session, run_id)
    context = next((s.output for s in steps if s.name == "context"), None)
    if context is None or original.agent_id is None:
        raise LumenError(f"run #{run_id} has no recorded context to replay")
    return await runs.enqueue_new(
        session,
        key=f"replay:{run_id}:{uuid.uuid4().hex}",
        trigger=RunTrigger.REPLAY,
        kind=original.kind,
        agent_id=original.agent_id,
        venture_id=original.venture_id,
        context={"replay_context": context},
        model_override=model,
        replay_of_run_id=run_id,
        side_effects=False,
    )


# --- a decision's trail, for Slack ----------------------------------------------------------


@dataclass(frozen=True)
class Trail:
    run_id: int
    status: str
    steps: list[TrailStep]
    permalink: str | None = None  # the decision's message, where the trail is posted in thread


def summarize(step: Step) -> str:
    """One line about what a step did, for people skimming a trail."""
    out: dict[str, Any] = step.output or {}
    if step.name == "context":
        return (
            f"brain v{out.get('brain_version') or '—'}, insight v{out.get('insight_version') or '—'}, "
            f"{len(out.get('recent', []))} recent decisions"
        )
    if step.name.startswith("verify:"):  # the verifier's verdict (agents/verifier.py)
        if out.get("error"):
            return f"check {out.get('attempt')} could not be made: {out['error']} · sent to a human"
        said = "consistent" if out.get("consistent") else f"objected: {out.get('objection', '')}"
        return f"check {out.get('attempt')} by {out.get('verifier', 'fast')} · {said}"
    if step.kind.value == "llm_call":
        if out.get("error"):  # a fast-tier try that failed, escalated
            return f"fast tier failed: {out['error']}"
        out = out.get("call") or out  # a fast-tier try holds its call
        value = out.get("value", {})
        titles = [d.get("title", "") for d in value.get("decisions", [])]
        tokens = f"{out.get('prompt_tokens', 0)}+{out.get('completion_tokens', 0)} tokens"
        return f"{out.get('model', '?')} · {tokens} · proposed: " + ("; ".join(titles) or "nothing")
    if step.name.startswith("decision:"):
        decision = out.get("decision", {})
        gate = "needs approval" if out.get("gated") else "no gate"
        return f"{decision.get('title', '')} [{decision.get('category', '')}] · {gate}"
    if step.name.startswith("gate:"):
        by = f" by <@{out['resolved_by']}>" if out.get("resolved_by") else ""
        reason = f": {out['reason']}" if out.get("reason") else ""
        return f"{out.get('status', '?')}{by}{reason}"
    if step.name == "finished":
        count = int(out.get("decisions") or 0)
        told = f" · {out['summary']}" if out.get("summary") else ""
        return f"{out.get('status', '?')} · {count} decision{'' if count == 1 else 's'}{told}"
    # Any other step: its plain fields, read as words (people skim a trail; `lumen runs show`
    # has the raw output).
    return " · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in out.items() if isinstance(v, (str, int, float, bool)))


async def decision_trail(session: AsyncSession, decision_id: int) -> Trail | None:
    run_id, permalink = await repository.run_of_decision(session, decision_id) or (None, None)
    found = await repository.run_with_steps(session, run_id) if run_id is not None else None
    if found is None:
        return None
    run, steps = found
    return Trail(
        run_id=run.id,
        permalink=permalink,
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
