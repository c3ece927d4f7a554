"""One wake-up of an agent, as journaled steps: the handler for `wake` runs.

context → propose_decisions (the model call) → one step per decision → gates → done.
Each step commits under the run's fence. A run taken over after a crash walks the same
steps and finds the finished ones in the journal: the model is not called again and no
decision or post is written twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents import conversation_steps, conversations, routing, service
from lumen.agents.context import FULL, Memory, load_context
from lumen.agents.prompts import build_classify_messages, build_messages
from lumen.agents.questions import Asking
from lumen.agents.steps import DecisionStep, GateStep, WakeContext, WakeFinished
from lumen.agents.verifier import Reviewed, Verifier, objection_message, setting_of
from lumen.approvals import service as approvals
from lumen.db.base import utcnow
from lumen.db.models import Agent, ApprovalStatus, Run, RunStatus, StepKind, Venture
from lumen.db.session import Database
from lumen.domain.config import LumenConfig
from lumen.domain.gate_check import CLASSIFY_DECISION, ClassifyDecision, read_decision
from lumen.domain.gates import EffectiveRule, GateCheck, check_gate, effective_rules
from lumen.domain.proposals import PROPOSE_DECISIONS, ProposedDecision, ProposeDecisions
from lumen.domain.ask_human import QUESTION_CATEGORY
from lumen.domain.verdicts import gated_by_verifier
from lumen.engine.handlers import Failure, RunContext, RunFailed
from lumen.engine.journal import Journal, StepResult
from lumen.domain.routing import route_decision
from lumen.engine.llm_step import LLMCall, call_model
from lumen.engine.routed_step import call_routed
from lumen.llm import Attribution, BudgetExceeded, Gateway, LLMError
from lumen.llm.tokens import count_tokens
from lumen.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class WakeUpHandler:
    """Registered for `RunKind.WAKE` by the composition root."""

    db: Database
    gateway: Gateway
    config: LumenConfig
    context_tokens: int = 6000
    memory: Memory = FULL
    expected: tuple[type[BaseException], ...] = (LLMError,)

    async def execute(self, ctx: RunContext) -> RunStatus:
        if ctx.agent is None or ctx.venture is None:
            raise RunFailed(f"run {ctx.run.id}: its agent or venture no longer exists")
        return await _WakeUp(self, ctx.journal, ctx.run, ctx.agent, ctx.venture).execute()

    async def succeeded(self, session: AsyncSession, ctx: RunContext) -> None:
        if ctx.agent is not None and ctx.run.side_effects and ctx.agent.consecutive_failures:
            await service.reset_failures(session, ctx.agent.id)

    async def failed(self, session: AsyncSession, run: Run, failure: Failure) -> None:
        if run.agent_id is None or not run.side_effects:
            return
        if isinstance(failure.error, BudgetExceeded):
            # Its own monthly envelope pauses the agent; a daily, venture or platform one
            # reopens by itself, and was posted once by the ledger's alerts.
            if failure.error.pauses_agent:
                await service.pause_for_budget(session, run.agent_id, run.id, failure.reason)
        else:
            await service.count_failure(session, run.agent_id, run.id, failure.reason)
        await conversations.tell_thread_it_failed(session, run, _why_not(failure, run.id))


@dataclass
class _WakeUp:
    handler: WakeUpHandler
    journal: Journal
    run: Run
    agent: Agent
    venture: Venture

    async def execute(self) -> RunStatus:
        context = await self.journal.step(
            StepKind.STATE, "context", self._context, WakeContext, run_values=_versions, deferred=True
        )
        proposal = await self._decide(context)
        if proposal is None:
            return RunStatus.AWAITING_APPROVAL  # asked a human (ask_human); the answer re-queues the run
        reviewed = await self._review(context, proposal)
        proposal = reviewed.proposal
        withdrawn = []
        if conversation_steps.in_conversation(context):  # a conversation may take decisions back
            withdrawn = await conversation_steps.withdraw_all(self.journal, self.run, self.agent, self.venture, proposal.value)
        rules = self._rules([p.category for p in proposal.value.decisions])
        gates: list[tuple[int, DecisionStep]] = []
        decided: list[DecisionStep] = []
        for ordinal, proposed in enumerate(proposal.value.decisions):
            check = await self._check_gate(ordinal, proposed, rules)
            if reviewed.gates(ordinal):  # the verifier would not pass it: a human decides
                check = gated_by_verifier(rules, proposed.category, reviewed.objection or "", check)
            item = service.DecisionInput(
                run_id=self.run.id,
                ordinal=ordinal,
                proposed=proposed,
                brain_version=context.brain_version,
                insight_version=context.insight_version,
                model=proposal.model,
                cost_usd=proposal.cost_usd,
                timezone=self.handler.config.workspace.timezone,
            )

            async def record(session: AsyncSession, output: DecisionStep, item=item, check=check) -> None:
                if self.run.side_effects:
                    decision = await service.record_decision(session, self.venture, self.agent, item, check)
                    output.decision_id = decision.id

            async def step(proposed=proposed, check=check) -> StepResult[DecisionStep]:
                return StepResult(
                    output=DecisionStep(
                        decision=proposed,
                        gated=check.rule is not None,
                        gated_as=check.gated_as,
                        why=check.why,
                        side_effects=self.run.side_effects,
                    )
                )

            recorded = await self.journal.step(
                StepKind.TOOL_CALL,
                f"decision:{ordinal}",
                step,
                DecisionStep,
                effect=record,
                # Derived from the recorded proposal alone, so safe to redo: the decisions are
                # written with the run's end (or before the first gate), not one by one.
                deferred=True,
            )
            decided.append(recorded)
            if recorded.gated and self.run.side_effects:
                gates.append((ordinal, recorded))
        # The answer in the thread, once the decisions it names are stored (same transaction).
        await conversation_steps.reply(self.journal, context, self.run, self.agent, proposal.value, withdrawn, decided)
        if gates:
            await self.journal.flush()  # a gate looks its decision's approval up
        for ordinal, recorded in gates:
            if recorded.decision_id is None:
                raise RunFailed(f"run {self.run.id}: gated decision {ordinal} was not stored")
            if not await self._pass_gate(ordinal, recorded.decision_id, proposal):
                return RunStatus.AWAITING_APPROVAL  # paused; a resolution re-queues the run
        self.journal.finish_with(
            "finished",
            WakeFinished(status="succeeded", decisions=len(proposal.value.decisions), summary=proposal.value.summary),
        )
        return RunStatus.SUCCEEDED

    async def _pass_gate(self, ordinal: int, decision_id: int, proposal: LLMCall[ProposeDecisions]) -> bool:
        """Continue past a gate once a human resolved it; False while it is still pending."""
        resolved = None
        if not self.journal.next_is_recorded():
            async with self.handler.db.sessions() as session:
                resolved = await approvals.resolution_of(session, decision_id)
            if resolved is None:
                return False

        async def resolution() -> StepResult[GateStep]:
            if resolved is None:
                raise RunFailed(f"run {self.run.id}: gate {ordinal} ran without its resolution")
            return StepResult(
                output=GateStep(
                    decision_id=decision_id,
                    approval_id=resolved.id,
                    status=resolved.status.value,
                    resolved_by=resolved.resolved_by,
                    resolved_at=resolved.resolved_at.isoformat() if resolved.resolved_at else None,
                    reason=resolved.reason,
                )
            )

        async def carry_out(session: AsyncSession, output: GateStep) -> None:
            if output.status == ApprovalStatus.APPROVED.value:
                await service.execute_approved(session, decision_id, proposal.model, proposal.cost_usd)

        await self.journal.step(StepKind.GATE, f"gate:{ordinal}", resolution, GateStep, effect=carry_out)
        return True

    def _rules(self, proposed: list[str]) -> dict[str, EffectiveRule]:
        config = self.handler.config
        venture = config.venture(self.venture.slug)
        return effective_rules(config.gates, dict(venture.gates) if venture else {}, also=proposed)

    async def _check_gate(self, ordinal: int, proposed: ProposedDecision, rules: dict[str, EffectiveRule]) -> GateCheck:
        """The gate this decision meets: its label, and what its words say, rules first and
        the fast model where the rules cannot tell. A check that fails gates the decision."""
        reading = read_decision(proposed.title, proposed.expected_effect)
        own = rules.get(proposed.category)
        if not reading.sure and not (own is not None and own.applies_to(proposed.amount_usd)):
            try:
                call = await call_model(
                    self.journal,
                    self.handler.gateway,
                    tool_name=CLASSIFY_DECISION,
                    tool_model=ClassifyDecision,
                    messages=build_classify_messages(proposed),
                    tier="fast",
                    attribution=Attribution(
                        purpose="gate_check", run_id=self.run.id, agent_id=self.agent.id, venture_id=self.venture.id
                    ),
                    step_name=f"gate_check:{ordinal}",
                )
                reading = call.value.reading()
            except LLMError as exc:  # the model down, garbage, or no budget left: a human decides
                log.warning("lumen.gate.check_failed", run_id=self.run.id, ordinal=ordinal, error=str(exc)[:200])
        return check_gate(rules, proposed.category, proposed.amount_usd, reading)

    async def _context(self) -> StepResult[WakeContext]:
        replay_of = self.run.context.get("replay_context")
        if replay_of is not None:  # a replay decides from the original run's inputs
            try:
                return StepResult(output=WakeContext.model_validate(replay_of))
            except ValidationError:
                raise RunFailed(
                    f"run #{self.run.replay_of_run_id} was recorded by an older Lumen; its context cannot be replayed"
                ) from None
        model = self.handler.gateway.tiers.chain(self.agent.model_tier, self.run.model_override)[0]  # type: ignore[arg-type]
        async with self.handler.db.sessions() as session:
            context = await load_context(
                session,
                self.agent,
                self.venture,
                now=utcnow(),
                count=lambda messages: count_tokens(model, messages),
                budget=self.handler.context_tokens,
                memory=self.handler.memory,
            )
            thread = await conversation_steps.thread_context(session, self.run, self.agent)
        if thread is not None:  # what people said in the thread, as quoted data
            context.block.extra["conversation"] = thread
        if (note := service.trigger_note(self.run.context)) is not None:
            # Why it woke (a webhook's body, the run it follows), as data in the context block.
            context.block.extra["trigger"] = note
        return StepResult(output=context)

    async def _review(self, context: WakeContext, proposal: LLMCall[ProposeDecisions]) -> Reviewed:
        """The verifier's check, for an agent with `verify:` in lumen.yml."""
        config = self.handler.config
        setting = setting_of(config, self.venture.slug, self.agent.role)
        if setting is None:
            return Reviewed(proposal)

        def tier_of_role(role: str) -> str:
            venture = config.venture(self.venture.slug)
            other = next((a for a in venture.agents if a.role == role), None) if venture else None
            return other.model_tier if other is not None else "fast"

        async def repropose(objection: str) -> LLMCall[ProposeDecisions]:
            return await self._decide_call(context)(
                messages=[*build_messages(context), objection_message(objection)],
                step_name=f"{PROPOSE_DECISIONS}:revised",
            )

        verifier = Verifier(self.journal, self.handler.gateway, self.run, self.agent, self.venture, setting, tier_of_role)
        return await verifier.review(context, proposal, repropose)

    def _decide_call(self, context: WakeContext) -> Callable[..., Awaitable[LLMCall[Any]]]:
        """The decide call, routed by complexity (agents/routing.py); with `fixed`, on the
        agent's own tier as before. Takes messages, step_name and alternatives."""
        task = routing.decision_task(context, self._rules([item.category for item in context.block.playbook]))
        policy = routing.policy_for(self.handler.config, self.venture.slug, self.agent.role)

        async def call(**kwargs: Any) -> LLMCall[Any]:
            return await call_routed(
                self.journal,
                self.handler.gateway,
                policy=policy,
                route=route_decision(task, policy),
                task="decide",
                summary=routing.summary(task),
                tool_name=PROPOSE_DECISIONS,
                tool_model=ProposeDecisions,
                fixed_tier=self.agent.model_tier,  # type: ignore[arg-type]
                attribution=Attribution(
                    purpose="decide", run_id=self.run.id, agent_id=self.agent.id, venture_id=self.venture.id
                ),
                model_override=self.run.model_override,
                **kwargs,
            )

        return call

    async def _decide(self, context: WakeContext) -> LLMCall[ProposeDecisions] | None:
        """The model's decisions; it may ask the approvers first (None: the run waits for them)."""
        asking = Asking(
            self.handler.db,
            self.handler.gateway,
            self.journal,
            self.run,
            self.agent,
            self.venture,
            rule=lambda: self._rules([QUESTION_CATEGORY])[QUESTION_CATEGORY],
            timezone=self.handler.config.workspace.timezone,
            call=self._decide_call(context),
        )
        return await asking.decide(build_messages(context))


def _versions(output: WakeContext) -> dict[str, Any]:
    """The brain and insight versions this run decides under, recorded on the run."""
    return {"brain_version": output.brain_version, "insight_version": output.insight_version}


def _why_not(failure: Failure, run_id: int) -> str:
    """What the people in a thread are told when the run they woke failed."""
    error = failure.error
    if isinstance(error, BudgetExceeded):
        whose = {"agent": "this agent's", "venture": "this venture's", "platform": "the workspace's"}[error.envelope.scope]
        when = "tomorrow (UTC)" if error.envelope.period == "day" else "next month, or when it is raised"
        return f"{whose} {'daily' if error.envelope.period == 'day' else 'monthly'} budget is spent; it reopens {when}"
    return f"its run #{run_id} failed ({failure.reason[:200]})"
