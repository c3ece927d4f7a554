"""The weekly synthesis: brain N + what happened since → brain N+1, posted to the channel.

The handler for `synthesis` runs. A run like any other: journaled (inputs → write_brain →
brain), so a crash never builds a version twice or pays the model twice. Versions are new
rows, never edits. Statements may only cite decisions the synthesis was shown (or that
brain N already cited); anything else is dropped, not trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.brain import repository, service
from lumen.brain.steps import BrainWritten, SynthesisInputs
from lumen.db.base import utcnow
from lumen.db.models import BrainVersion, Run, RunStatus, RunTrigger, StepKind, Venture
from lumen.db.session import Database
from lumen.domain.brain import SECTIONS, attach_titles, cited_ids, compact, diff_brains, iso_week, known_titles
from lumen.domain.brain_schema import WRITE_BRAIN, WriteBrain
from lumen.engine import outbox
from lumen.engine.handlers import Failure, Finished, RunContext, RunFailed
from lumen.engine.journal import Journal, StepResult
from lumen.engine.llm_step import LLMCall, call_model
from lumen.llm import Attribution, Gateway, LLMError
from lumen.llm.context_block import ContextBlock, VentureInfo, render_context_block
from lumen.render.brain import WeeklySummary, weekly_summary_blocks, weekly_summary_text

SYSTEM = """You maintain the knowledge base ("brain") of {name}, a venture run by AI agents.
Write brain version {next} with the `write_brain` tool: principles, what worked, what failed, open bets and questions.
Start from the previous version, keep what still holds, and fold in the decisions and outcomes since it.
Every statement must cite the decision numbers it rests on (decision_ids), taken only from the data below.
Be concrete and brief; at most 12 statements per section."""


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


def synthesis_messages(venture: Venture, inputs: SynthesisInputs) -> list[dict[str, Any]]:
    facts = [f.as_json() for f in inputs.facts]
    block = ContextBlock(
        task="synthesize",
        venture=VentureInfo(slug=venture.slug, name=venture.name, stage=venture.stage, goals=list(venture.goals)),
        brain_version=inputs.previous_version or None,
        extra={"previous": compact(inputs.previous), "decisions": facts},
    )
    lines = [
        f"#{f.id} [{f.category}] {f.title} — {f.status}"
        + (f", outcome {f.verdict}" if f.verdict else "")
        + (f", rejected because {f.reason}" if f.reason else "")
        for f in inputs.facts
    ]
    user = "\n\n".join(
        [
            # Once, in the context block: sent twice, a bounded brain still cost more than a busy week.
            f"Previous brain (v{inputs.previous_version}): `extra.previous` in the context block below.",
            "Decisions since then:\n" + "\n".join(lines),
            render_context_block(block),
        ]
    )
    system = SYSTEM.format(name=venture.name, next=inputs.previous_version + 1)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class SynthesisHandler:
    """Registered for `RunKind.SYNTHESIS` by the composition root."""

    db: Database
    gateway: Gateway
    expected: tuple[type[BaseException], ...] = (LLMError,)

    async def execute(self, ctx: RunContext) -> RunStatus:
        if ctx.venture is None:
            raise RunFailed(f"run {ctx.run.id}: its venture no longer exists")
        return await _Synthesis(self, ctx.journal, ctx.run, ctx.venture).execute()

    async def succeeded(self, session: AsyncSession, ctx: RunContext) -> None:
        return None

    async def failed(self, session: AsyncSession, run: Run, failure: Failure) -> None:
        return None


@dataclass
class _Synthesis:
    handler: SynthesisHandler
    journal: Journal
    run: Run
    venture: Venture

    async def execute(self) -> RunStatus:
        inputs = await self.journal.step(StepKind.STATE, "inputs", self._inputs, SynthesisInputs)
        if not inputs.facts:
            self.journal.finish_with("finished", Finished(status="nothing new since the last brain"))
            return RunStatus.SUCCEEDED
        written = await call_model(
            self.journal,
            self.handler.gateway,
            tool_name=WRITE_BRAIN,
            tool_model=WriteBrain,
            messages=synthesis_messages(self.venture, inputs),
            tier="strong",
            attribution=Attribution(purpose="synthesize", run_id=self.run.id, venture_id=self.venture.id),
            model_override=self.run.model_override,
        )
        await self.journal.step(
            StepKind.STATE, "brain", lambda: self._version(inputs, written), BrainWritten, effect=self._store
        )
        self.journal.finish_with("finished", Finished(status="succeeded"))
        return RunStatus.SUCCEEDED

    @property
    def until(self) -> datetime:
        return self.run.scheduled_for or self.run.created_at or utcnow()

    async def _inputs(self) -> StepResult[SynthesisInputs]:
        async with self.handler.db.sessions() as session:
            brain = await repository.latest_brain(session, self.venture.id)
            since = brain.created_at if brain else None
            facts = await repository.facts_since(session, self.venture.id, since, self.until)
        return StepResult(
            output=SynthesisInputs(
                previous_version=brain.version if brain else 0,
                previous=service.sections_of(brain),
                since=since.isoformat() if since else None,
                until=self.until.isoformat(),
                week=iso_week(self.until),
                facts=facts,
            )
        )

    async def _version(self, inputs: SynthesisInputs, written: LLMCall[WriteBrain]) -> StepResult[BrainWritten]:
        facts = [f.as_json() for f in inputs.facts]
        allowed = {f.id for f in inputs.facts} | cited_ids(inputs.previous)
        titles = known_titles(inputs.previous, facts)
        value = written.value.model_dump(mode="json")
        sections = attach_titles(_clean(value, allowed), titles)
        diff = diff_brains(inputs.previous, sections)
        return StepResult(
            output=BrainWritten(
                version=inputs.previous_version + 1,
                sections=sections,
                summary=written.value.summary,
                diff=diff.as_json(),
                diff_lines=diff.lines(),
                built_from=sorted({f.id for f in inputs.facts}),
                week=inputs.week,
                since=inputs.since,
                until=inputs.until,
                model=written.model,
            )
        )

    async def _store(self, session: AsyncSession, output: BrainWritten) -> None:
        until = datetime.fromisoformat(output.until)
        session.add(
            BrainVersion(
                venture_id=self.venture.id,
                version=output.version,
                period=output.week if self.run.trigger == RunTrigger.SCHEDULE else None,
                summary=output.summary,
                diff=output.diff,
                built_from=output.built_from,
                run_id=self.run.id,
                model=output.model,
                created_at=until,
                **{name: output.sections[name] for name in SECTIONS},
            )
        )
        await session.flush()
        if not self.run.side_effects:
            return
        since = datetime.fromisoformat(output.since) if output.since else None
        summary = WeeklySummary(
            venture_name=self.venture.name,
            venture_slug=self.venture.slug,
            version=output.version,
            week=output.week,
            diff_lines=output.diff_lines,
            stats=await repository.week_stats(session, self.venture, since, until),
            scores=await service.scores_for_venture(session, self.venture.id),
            summary=output.summary,
        )
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {
                "channel": self.venture.address,
                "text": weekly_summary_text(summary),
                "blocks": weekly_summary_blocks(summary),
            },
            dedupe_key=f"brain:{self.venture.id}:{output.version}:summary",
        )
