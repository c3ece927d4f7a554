"""The platform synthesis: lessons that hold across ventures, versioned, read by every agent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.brain.facts import latest_brain, sections_of
from lumen.brain.schema import WRITE_INSIGHTS, WriteInsights
from lumen.db.base import utcnow
from lumen.db.models import PlatformInsight, Run, RunStatus, StepKind, Venture
from lumen.domain.brain import cited_ids, iso_week
from lumen.engine import outbox, runs
from lumen.engine.journal import Journal, StepResult
from lumen.llm import Attribution, Gateway
from lumen.llm.context_block import ContextBlock, render_context_block
from lumen.services import Services
from lumen.slack.blocks.brain import insights_blocks

SYSTEM = """You read the knowledge bases of every venture on the platform and write the lessons that hold across them,
with the `write_insights` tool. Each insight names its category, the ventures it rests on and the decision numbers
behind it, taken only from the brains below. Prefer moves that worked in two or more ventures, and warn about
moves that failed in two or more."""


def platform_key(nominal: datetime) -> str:
    return f"platform:{iso_week(nominal)}"


@dataclass
class PlatformSynthesis:
    services: Services
    gateway: Gateway
    journal: Journal
    run: Run

    async def execute(self) -> RunStatus:
        inputs = await self.journal.step(StepKind.STATE, "inputs", self._inputs)
        if not inputs["brains"]:
            self.journal.finish_with("finished", {"status": "no venture has a brain yet"})
            return RunStatus.SUCCEEDED
        written = await self.journal.step(
            StepKind.LLM_CALL, WRITE_INSIGHTS, lambda: self._write(inputs), run_values=runs.with_cost
        )
        await self.journal.step(StepKind.STATE, "insights", lambda: self._version(inputs, written), effect=self._store)
        self.journal.finish_with("finished", {"status": "succeeded"})
        return RunStatus.SUCCEEDED

    async def _inputs(self) -> StepResult:
        until = self.run.scheduled_for or self.run.created_at or utcnow()
        async with self.services.db.sessions() as session:
            ventures = (await session.scalars(select(Venture).where(Venture.archived_at.is_(None)))).all()
            brains = {}
            for venture in ventures:
                brain = await latest_brain(session, venture.id)
                if brain is not None:
                    brains[venture.slug] = sections_of(brain)
            previous = await session.scalar(select(func.max(PlatformInsight.version))) or 0
        return StepResult(output={"brains": brains, "previous_version": previous, "week": iso_week(until)})

    async def _write(self, inputs: dict[str, Any]) -> StepResult:
        block = ContextBlock(task="synthesize", extra={"scope": "platform", "brains": inputs["brains"]})
        messages = [
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": "Brains by venture:\n"
                + json.dumps(inputs["brains"], ensure_ascii=False)
                + "\n\n"
                + render_context_block(block),
            },
        ]
        result = await self.gateway.call_tool(
            "strong",
            messages,
            tool_model=WriteInsights,
            tool_name=WRITE_INSIGHTS,
            attribution=Attribution(purpose="platform_synthesis", run_id=self.run.id),
            model=self.run.model_override,
        )
        assert result.value is not None
        output = result.to_journal() | {"prompt": result.messages, "value": result.value.model_dump(mode="json")}
        return StepResult(output=output, cost_usd=result.cost_usd, input={"messages": messages})

    async def _version(self, inputs: dict[str, Any], written: dict[str, Any]) -> StepResult:
        allowed = {i for sections in inputs["brains"].values() for i in cited_ids(sections)}
        insights = []
        for item in written["value"]["insights"]:
            ids = [i for i in item["decision_ids"] if i in allowed]
            if ids:
                insights.append({**item, "decision_ids": ids})
        return StepResult(
            output={
                "version": inputs["previous_version"] + 1,
                "insights": insights,
                "summary": written["value"].get("summary", ""),
                "week": inputs["week"],
            }
        )

    async def _store(self, session: AsyncSession, output: dict[str, Any]) -> None:
        previous = await session.scalar(select(PlatformInsight).order_by(PlatformInsight.version.desc()).limit(1))
        before = {i["text"] for i in (previous.insights if previous else [])}
        after = {i["text"] for i in output["insights"]}
        session.add(
            PlatformInsight(
                version=output["version"],
                period=output["week"] if self.run.trigger.value == "schedule" else None,
                insights=output["insights"],
                summary=output["summary"],
                diff={"added": sorted(after - before), "removed": sorted(before - after)},
                built_from=sorted({i for item in output["insights"] for i in item["decision_ids"]}),
                run_id=self.run.id,
            )
        )
        if self.run.side_effects:
            channel = self.services.config.workspace.platform_channel
            await outbox.enqueue(
                session,
                "chat.postMessage",
                {
                    "channel": f"#{channel}",
                    "text": f"Platform insights v{output['version']}",
                    "blocks": insights_blocks(output["version"], output["week"], output["insights"], output["summary"]),
                },
                dedupe_key=f"platform:{output['version']}:post",
            )
