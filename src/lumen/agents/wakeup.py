"""One wake-up of an agent, as journaled steps.

context → propose_decisions (the model call) → one step per decision → done.
Each step commits under the run's fence. A run taken over after a crash walks
the same steps and finds the finished ones in the journal: the model is not
called again and no decision or post is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents.context import WakeContext, load_context
from lumen.agents.decisions import DecisionInput, execute_approved, record_decision
from lumen.agents.prompts import build_messages
from lumen.agents.schema import PROPOSE_DECISIONS, ProposeDecisions
from lumen.db.models import Agent, Approval, ApprovalStatus, Run, RunStatus, StepKind, Venture
from lumen.domain.gates import effective_rules
from lumen.engine import runs
from lumen.engine.journal import Journal, StepResult
from lumen.llm import Attribution, Gateway
from lumen.services import Services


@dataclass
class WakeUp:
    services: Services
    gateway: Gateway
    journal: Journal
    run: Run
    agent: Agent
    venture: Venture

    async def execute(self) -> RunStatus:
        context = WakeContext.from_json(
            await self.journal.step(StepKind.STATE, "context", self._context, run_values=_versions, deferred=True)
        )
        proposal = await self.journal.step(
            StepKind.LLM_CALL, PROPOSE_DECISIONS, lambda: self._decide(context), run_values=runs.with_cost
        )
        decisions = ProposeDecisions.model_validate(proposal["value"]).decisions
        rules = effective_rules(self.services.config.gates, self._venture_overrides())
        gates: list[tuple[int, dict[str, Any]]] = []
        for ordinal, proposed in enumerate(decisions):
            rule = rules.get(proposed.category)
            needs_human = rule is not None and rule.applies_to(proposed.amount_usd)
            item = DecisionInput(
                run_id=self.run.id,
                ordinal=ordinal,
                proposed=proposed,
                brain_version=context.brain_version,
                insight_version=context.insight_version,
                model=proposal["model"],
                cost_usd=Decimal(proposal["cost_usd"]),
            )

            async def effect(session: AsyncSession, output: dict[str, Any], item=item, rule=rule) -> None:
                if self.run.side_effects:
                    decision = await record_decision(session, self.venture, self.agent, item, rule)
                    output["decision_id"] = decision.id

            recorded = await self.journal.step(
                StepKind.TOOL_CALL,
                f"decision:{ordinal}",
                lambda proposed=proposed, needs_human=needs_human: _as_result(
                    {
                        "decision": proposed.model_dump(mode="json"),
                        "gated": needs_human,
                        "side_effects": self.run.side_effects,
                    }
                ),
                effect=effect,
                # Derived from the recorded proposal alone, so safe to redo: the decisions are
                # written with the run's end (or before the first gate), not one by one.
                deferred=True,
            )
            if needs_human and self.run.side_effects:
                gates.append((ordinal, recorded))
        if gates:
            await self.journal.flush()  # a gate looks its decision's approval up
        for ordinal, recorded in gates:
            if not await self._pass_gate(ordinal, recorded["decision_id"], proposal):
                return RunStatus.AWAITING_APPROVAL  # paused; a resolution re-queues the run
        summary = proposal["value"].get("summary", "")
        self.journal.finish_with("finished", {"status": "succeeded", "decisions": len(decisions), "summary": summary})
        return RunStatus.SUCCEEDED

    async def _pass_gate(self, ordinal: int, decision_id: int, proposal: dict[str, Any]) -> bool:
        """Continue past a gate once a human resolved it; False while it is still pending."""
        approval = None
        if not self.journal.next_is_recorded():
            async with self.services.db.sessions() as session:
                approval = await session.scalar(select(Approval).where(Approval.decision_id == decision_id))
            if approval is None or approval.status == ApprovalStatus.PENDING:
                return False

        async def resolution() -> StepResult:
            assert approval is not None
            return StepResult(
                output={
                    "decision_id": decision_id,
                    "approval_id": approval.id,
                    "status": approval.status.value,
                    "resolved_by": approval.resolved_by,
                    "resolved_at": approval.resolved_at.isoformat() if approval.resolved_at else None,
                    "reason": approval.reason,
                }
            )

        async def carry_out(session: AsyncSession, output: dict[str, Any]) -> None:
            if output["status"] == ApprovalStatus.APPROVED.value:
                await execute_approved(session, decision_id, proposal["model"], Decimal(proposal["cost_usd"]))

        await self.journal.step(StepKind.GATE, f"gate:{ordinal}", resolution, effect=carry_out)
        return True

    def _venture_overrides(self) -> dict:
        config = self.services.config.venture(self.venture.slug)
        return dict(config.gates) if config else {}

    async def _context(self) -> StepResult:
        replay_of = self.run.context.get("replay_context")
        if replay_of is not None:  # a replay decides from the original run's inputs
            return StepResult(output=replay_of)
        async with self.services.db.sessions() as session:
            context = await load_context(session, self.agent, self.venture)
        return StepResult(output=context.to_json())

    async def _decide(self, context: WakeContext) -> StepResult:
        messages = build_messages(context)
        result = await self.gateway.call_tool(
            self.agent.model_tier,  # type: ignore[arg-type]
            messages,
            tool_model=ProposeDecisions,
            tool_name=PROPOSE_DECISIONS,
            attribution=Attribution(
                purpose="decide",
                run_id=self.run.id,
                agent_id=self.agent.id,
                venture_id=self.venture.id,
            ),
            model=self.run.model_override,
        )
        assert result.value is not None
        output = result.to_journal() | {
            "prompt": result.messages,
            "value": result.value.model_dump(mode="json"),
        }
        return StepResult(output=output, cost_usd=result.cost_usd, input={"messages": messages})


def _versions(output: dict[str, Any]) -> dict[str, Any]:
    """The brain and insight versions this run decides under, recorded on the run."""
    return {"brain_version": output["brain_version"], "insight_version": output["insight_version"]}


async def _as_result(output: dict[str, Any]) -> StepResult:
    return StepResult(output=output)
