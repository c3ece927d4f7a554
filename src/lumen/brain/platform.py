"""The platform synthesis: lessons that hold across ventures, versioned, read by every agent.

The handler for `platform_synthesis` runs: inputs → write_insights → insights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.brain import repository, service
from lumen.brain.steps import InsightsWritten, PlatformInputs
from lumen.db.base import utcnow
from lumen.db.models import PlatformInsight, Run, RunStatus, RunTrigger, StepKind
from lumen.db.session import Database
from lumen.domain.brain import cited_ids, iso_week
from lumen.domain.brain_schema import WRITE_INSIGHTS, WriteInsights
from lumen.domain.config import LumenConfig
from lumen.engine import outbox
from lumen.engine.handlers import Failure, Finished, RunContext
from lumen.engine.journal import Journal, StepResult
from lumen.engine.llm_step import LLMCall, call_model
from lumen.llm import Attribution, Gateway, LLMError
from lumen.llm.context_block import ContextBlock, render_context_block
from lumen.render.brain import insights_blocks

SYSTEM = """You read the knowledge bases of every venture on the platform and write the lessons that hold across them,
with the `write_insights` tool. Each insight names its category, the ventures it rests on and the decision numbers
behind it, taken only from the brains below. Prefer moves that worked in two or more ventures, and warn about
moves that failed in two or more."""


def platform_messages(inputs: PlatformInputs) -> list[dict[str, str]]:
    block = ContextBlock(task="synthesize", extra={"scope": "platform", "brains": inputs.brains})
    user = "Brains by venture:\n" + json.dumps(inputs.brains, ensure_ascii=False) + "\n\n" + render_context_block(block)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class PlatformSynthesisHandler:
    """Registered for `RunKind.PLATFORM_SYNTHESIS` by the composition root."""

    db: Database
    gateway: Gateway
    config: LumenConfig
    expected: tuple[type[BaseException], ...] = (LLMError,)

    async def execute(self, ctx: RunContext) -> RunStatus:
        return await _PlatformSynthesis(self, ctx.journal, ctx.run).execute()

    async def succeeded(self, session: AsyncSession, ctx: RunContext) -> None:
        return None

    async def failed(self, session: AsyncSession, run: Run, failure: Failure) -> None:
        return None


@dataclass
class _PlatformSynthesis:
    handler: PlatformSynthesisHandler
    journal: Journal
    run: Run

    async def execute(self) -> RunStatus:
        inputs = await self.journal.step(StepKind.STATE, "inputs", self._inputs, PlatformInputs)
        if not inputs.brains:
            self.journal.finish_with("finished", Finished(status="no venture has a brain yet"))
            return RunStatus.SUCCEEDED
        written = await call_model(
            self.journal,
            self.handler.gateway,
            tool_name=WRITE_INSIGHTS,
            tool_model=WriteInsights,
            messages=platform_messages(inputs),
            tier="strong",
            attribution=Attribution(purpose="platform_synthesis", run_id=self.run.id),
            model_override=self.run.model_override,
        )
        await self.journal.step(
            StepKind.STATE, "insights", lambda: self._version(inputs, written), InsightsWritten, effect=self._store
        )
        self.journal.finish_with("finished", Finished(status="succeeded"))
        return RunStatus.SUCCEEDED

    async def _inputs(self) -> StepResult[PlatformInputs]:
        until = self.run.scheduled_for or self.run.created_at or utcnow()
        async with self.handler.db.sessions() as session:
            brains = {}
            for venture in await repository.live_ventures(session):
                brain = await repository.latest_brain(session, venture.id)
                if brain is not None:
                    brains[venture.slug] = service.sections_of(brain)
            previous = await repository.latest_insight_version(session)
        return StepResult(output=PlatformInputs(brains=brains, previous_version=previous, week=iso_week(until)))

    async def _version(self, inputs: PlatformInputs, written: LLMCall[WriteInsights]) -> StepResult[InsightsWritten]:
        allowed = {i for sections in inputs.brains.values() for i in cited_ids(sections)}
        insights = []
        for item in written.value.insights:
            ids = [i for i in item.decision_ids if i in allowed]
            if ids:
                insights.append({**item.model_dump(mode="json"), "decision_ids": ids})
        return StepResult(
            output=InsightsWritten(
                version=inputs.previous_version + 1,
                insights=insights,
                summary=written.value.summary,
                week=inputs.week,
            )
        )

    async def _store(self, session: AsyncSession, output: InsightsWritten) -> None:
        previous = await repository.latest_insight(session)
        before = {i["text"] for i in (previous.insights if previous else [])}
        after = {i["text"] for i in output.insights}
        session.add(
            PlatformInsight(
                version=output.version,
                period=output.week if self.run.trigger == RunTrigger.SCHEDULE else None,
                insights=output.insights,
                summary=output.summary,
                diff={"added": sorted(after - before), "removed": sorted(before - after)},
                built_from=sorted({i for item in output.insights for i in item["decision_ids"]}),
                run_id=self.run.id,
            )
        )
        if self.run.side_effects:
            channel = self.handler.config.workspace.platform_channel
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {
                    "channel": f"#{channel}",
                    "text": f"Platform insights v{output.version}",
                    "blocks": insights_blocks(output.version, output.week, output.insights, output.summary),
                },
                dedupe_key=f"platform:{output.version}:post",
            )
