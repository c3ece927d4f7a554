"""The journaled steps of a conversation run (a wake-up with messages from a thread):
what the thread says, the decisions the agent takes back, and its answer in the thread."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents.conversations import MAX_MESSAGES, conversation_of
from lumen.agents.steps import DecisionStep, WakeContext
from lumen.approvals import service as approvals
from lumen.db.models import Agent, Decision, DecisionStatus, Run, StepKind, Venture
from lumen.domain.proposals import ProposeDecisions
from lumen.engine import outbox
from lumen.engine.journal import Journal, StepResult
from lumen.render.conversations import ThreadAnswer, thread_answer_payload


class WithdrawStep(BaseModel):
    """An earlier decision the agent took back (`withdraw:N`), and what became of it."""

    decision_id: int
    outcome: str  # withdrawn | executed | resolved | not_found
    revised: bool = False


class ReplyStep(BaseModel):
    """The agent's answer in the thread (`reply`)."""

    channel_id: str
    thread_ts: str
    text: str = ""
    posted: bool = False


async def thread_context(session: AsyncSession, run: Run, agent: Agent) -> dict[str, Any] | None:
    """What the prompt shows of the thread: the decision it is about and the messages."""
    conversation = conversation_of(run)
    if conversation is None:
        return None
    about = None
    if (decision_id := conversation.get("decision_id")) is not None:
        decision = await session.get(Decision, int(decision_id))
        if decision is not None and decision.agent_id == agent.id:
            about = {
                "id": decision.id,
                "title": decision.title,
                "category": decision.category,
                "status": decision.status.value,
                "rationale": decision.rationale[:600],
                "amount_usd": float(decision.amount_usd) if decision.amount_usd is not None else None,
            }
    messages = [{"user": m.get("user", ""), "text": m.get("text", "")} for m in conversation.get("messages", [])]
    return {"decision": about, "messages": messages[-MAX_MESSAGES:]}


def in_conversation(context: WakeContext) -> bool:
    """Is this wake-up answering people in a thread? Read from the journaled context, so a
    replay of a conversation run is one too."""
    return isinstance(context.block.extra.get("conversation"), dict)


async def withdraw_all(
    journal: Journal, run: Run, agent: Agent, venture: Venture, proposal: ProposeDecisions
) -> list[WithdrawStep]:
    """One step per decision taken back (withdrawn, or revised by a new one), in id order."""
    revised = {d.revises for d in proposal.decisions if d.revises is not None}
    done = []
    for decision_id in sorted(set(proposal.withdraws) | revised):

        async def read(decision_id: int = decision_id) -> StepResult[WithdrawStep]:
            async with journal.db.sessions() as session:
                decision = await session.get(Decision, decision_id)
            if decision is None or decision.agent_id != agent.id or decision.venture_id != venture.id:
                outcome = "not_found"
            elif decision.status == DecisionStatus.AWAITING_APPROVAL:
                outcome = "withdrawn"
            elif decision.status == DecisionStatus.EXECUTED:
                outcome = "executed"
            else:
                outcome = "resolved"
            return StepResult(output=WithdrawStep(decision_id=decision_id, outcome=outcome, revised=decision_id in revised))

        async def close(session: AsyncSession, output: WithdrawStep) -> None:
            if output.outcome != "withdrawn" or not run.side_effects:
                return
            reason = "revised in the thread" if output.revised else "taken back in the thread"
            if not await approvals.withdraw(session, output.decision_id, by_role=agent.role, reason=f"{reason} (run #{run.id})"):
                output.outcome = "resolved"  # a human was quicker

        done.append(await journal.step(StepKind.TOOL_CALL, f"withdraw:{decision_id}", read, WithdrawStep, effect=close))
    return done


async def reply(
    journal: Journal,
    context: WakeContext,
    run: Run,
    agent: Agent,
    proposal: ProposeDecisions,
    withdrawn: list[WithdrawStep],
    decided: list[DecisionStep],
) -> ReplyStep | None:
    """The agent's answer, in the thread it was asked in, through the outbox, once."""
    if not in_conversation(context):
        return None
    # A replay of a conversation run decides from the same thread, and posts nowhere.
    conversation = conversation_of(run) or {}
    channel_id, thread_ts = str(conversation.get("channel_id", "")), str(conversation.get("thread_ts", ""))

    async def nothing_yet() -> StepResult[ReplyStep]:
        return StepResult(output=ReplyStep(channel_id=channel_id, thread_ts=thread_ts))

    async def post(session: AsyncSession, output: ReplyStep) -> None:
        # The decisions' ids are known here: their steps' effects ran first, in this transaction.
        answer = ThreadAnswer(
            role=agent.role,
            reply=proposal.reply or proposal.summary,
            withdrawn=[(w.decision_id, w.outcome) for w in withdrawn],
            decided=[(d.decision_id, d.decision.title, d.gated) for d in decided],
        )
        payload = thread_answer_payload(answer)
        output.text = payload["text"]
        if not run.side_effects or not channel_id:
            return
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": channel_id, "thread_ts": thread_ts, **payload},
            dedupe_key=f"run:{run.id}:reply",
        )
        output.posted = True

    return await journal.step(StepKind.POST, "reply", nothing_yet, ReplyStep, effect=post)
