"""The weekly synthesis: brain N + what happened since → brain N+1, posted to the channel.

A run like any other: journaled (inputs → write_brain → brain), so a crash
never builds a version twice or pays the model twice. Versions are new rows,
never edits. Statements may only cite decisions the synthesis was shown (or
that brain N already cited); anything else is dropped, not trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.brain.attribution import scores_for_venture
from lumen.brain.facts import facts_since, latest_brain, sections_of, week_stats
from lumen.brain.schema import WRITE_BRAIN, WriteBrain
from lumen.db.base import utcnow
from lumen.db.models import BrainVersion, Run, RunStatus, StepKind, Venture
from lumen.domain.brain import SECTIONS, attach_titles, cited_ids, compact, diff_brains, iso_week, known_titles
from lumen.engine import outbox, runs
from lumen.engine.journal import Journal, StepResult
from lumen.llm import Attribution, Gateway
from lumen.llm.context_block import ContextBlock, VentureInfo, render_context_block
from lumen.services import Services
from lumen.slack.blocks.brain import WeeklySummary, weekly_summary_blocks, weekly_summary_text

SYSTEM = """You maintain the knowledge base ("brain") of {name}, a venture run by AI agents.
Write brain version {next} with the `write_brain` tool: principles, what worked, what failed, open bets and questions.
Start from the previous version, keep what still holds, and fold in the decisions and outcomes since it.
Every statement must cite the decision numbers it rests on (decision_ids), taken only from the data below.
Be concrete and brief; at most 12 statements per section."""


def synthesis_key(venture_slug: str, nominal: datetime) -> str:
    """One scheduled synthesis per venture per ISO week, across replicas."""
    return f"synthesis:{venture_slug}:{iso_week(nominal)}"


def _clean(sections: dict[str, list[dict[str, Any]]], allowed: set[int]) -> dict[str, list[dict[str, Any]]]:
    """Keep only citations of decisions the synthesis was given; drop statements left uncited."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in SECTIONS:
        kept = []
        for statement in sections.get(name, []):
            ids = [i for i in statement.get("decision_ids", []) if i in allowed]
            if ids:
                kept.append({**statement, "decision_ids": ids})
        out[name] = kept
    return out


@dataclass
class Synthesis:
    services: Services
    gateway: Gateway
    journal: Journal
    run: Run
    venture: Venture

    async def execute(self) -> RunStatus:
        inputs = await self.journal.step(StepKind.STATE, "inputs", self._inputs)
        if not inputs["facts"]:
            self.journal.finish_with("finished", {"status": "nothing new since the last brain"})
            return RunStatus.SUCCEEDED
        written = await self.journal.step(
            StepKind.LLM_CALL, WRITE_BRAIN, lambda: self._write(inputs), run_values=runs.with_cost
        )
        await self.journal.step(
            StepKind.STATE, "brain", lambda: self._version(inputs, written), effect=self._store
        )
        self.journal.finish_with("finished", {"status": "succeeded"})
        return RunStatus.SUCCEEDED

    @property
    def until(self) -> datetime:
        return self.run.scheduled_for or self.run.created_at or utcnow()

    async def _inputs(self) -> StepResult:
        async with self.services.db.sessions() as session:
            brain = await latest_brain(session, self.venture.id)
            since = brain.created_at if brain else None
            facts = await facts_since(session, self.venture.id, since, self.until)
        return StepResult(
            output={
                "previous_version": brain.version if brain else 0,
                "previous": sections_of(brain),
                "since": since.isoformat() if since else None,
                "until": self.until.isoformat(),
                "week": iso_week(self.until),
                "facts": [f.as_json() for f in facts],
            }
        )

    def messages(self, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        block = ContextBlock(
            task="synthesize",
            venture=VentureInfo(
                slug=self.venture.slug, name=self.venture.name, stage=self.venture.stage, goals=list(self.venture.goals)
            ),
            brain_version=inputs["previous_version"] or None,
            extra={"previous": compact(inputs["previous"]), "decisions": inputs["facts"]},
        )
        lines = [
            f"#{f['id']} [{f['category']}] {f['title']} — {f['status']}"
            + (f", outcome {f['verdict']}" if f.get("verdict") else "")
            + (f", rejected because {f['reason']}" if f.get("reason") else "")
            for f in inputs["facts"]
        ]
        user = "\n\n".join(
            [
                # Once, in the context block: sent twice, a bounded brain still cost more than a busy week.
                f"Previous brain (v{inputs['previous_version']}): `extra.previous` in the context block below.",
                "Decisions since then:\n" + "\n".join(lines),
                render_context_block(block),
            ]
        )
        system = SYSTEM.format(name=self.venture.name, next=inputs["previous_version"] + 1)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def _write(self, inputs: dict[str, Any]) -> StepResult:
        messages = self.messages(inputs)
        result = await self.gateway.call_tool(
            "strong",
            messages,
            tool_model=WriteBrain,
            tool_name=WRITE_BRAIN,
            attribution=Attribution(purpose="synthesize", run_id=self.run.id, venture_id=self.venture.id),
            model=self.run.model_override,
        )
        assert result.value is not None
        output = result.to_journal() | {"prompt": result.messages, "value": result.value.model_dump(mode="json")}
        return StepResult(output=output, cost_usd=result.cost_usd, input={"messages": messages})

    async def _version(self, inputs: dict[str, Any], written: dict[str, Any]) -> StepResult:
        allowed = {f["id"] for f in inputs["facts"]} | cited_ids(inputs["previous"])
        titles = known_titles(inputs["previous"], inputs["facts"])
        sections = attach_titles(_clean(written["value"], allowed), titles)
        diff = diff_brains(inputs["previous"], sections)
        return StepResult(
            output={
                "version": inputs["previous_version"] + 1,
                "sections": sections,
                "summary": written["value"].get("summary", ""),
                "diff": diff.as_json(),
                "diff_lines": diff.lines(),
                "built_from": sorted({f["id"] for f in inputs["facts"]}),
                "week": inputs["week"],
                "since": inputs["since"],
                "until": inputs["until"],
                "model": written["model"],
            }
        )

    async def _store(self, session: AsyncSession, output: dict[str, Any]) -> None:
        until = datetime.fromisoformat(output["until"])
        brain = BrainVersion(
            venture_id=self.venture.id,
            version=output["version"],
            period=output["week"] if self.run.trigger.value == "schedule" else None,
            summary=output["summary"],
            diff=output["diff"],
            built_from=output["built_from"],
            run_id=self.run.id,
            model=output["model"],
            created_at=until,
            **{name: output["sections"][name] for name in SECTIONS},
        )
        session.add(brain)
        await session.flush()
        if not self.run.side_effects:
            return
        since = datetime.fromisoformat(output["since"]) if output["since"] else None
        stats = await week_stats(session, self.venture, since, until)
        scores = await scores_for_venture(session, self.venture.id)
        summary = WeeklySummary(
            venture_name=self.venture.name,
            venture_slug=self.venture.slug,
            version=output["version"],
            week=output["week"],
            diff_lines=output["diff_lines"],
            stats=stats,
            scores=scores,
            summary=output["summary"],
        )
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {
                "channel": self.venture.channel_id or f"#{self.venture.channel}",
                "text": weekly_summary_text(summary),
                "blocks": weekly_summary_blocks(summary),
            },
            dedupe_key=f"brain:{self.venture.id}:{output['version']}:summary",
        )

