"""Budget alerts through the outbox: a warning at 80 % and a stop at 100 %, once each per
envelope and period (the outbox's dedupe key makes "once" hold across replicas).

The ledger calls these; it knows envelopes by id, so names and channels are looked up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, Venture
from lumen.domain.budgets import Envelope, Refusal, period_label
from lumen.domain.channels import channel_address
from lumen.engine import outbox
from lumen.llm.ledger import Attribution
from lumen.llm.models import is_offline
from lumen.log import get_logger
from lumen.render.budgets import EnvelopeView, budget_stop_payload, budget_warning_payload

log = get_logger(__name__)


@dataclass(frozen=True)
class BudgetAnnouncer:
    """Implements the ledger's BudgetAlerts. Platform alerts go to the platform channel."""

    platform_channel: str
    # The offline model charges its simulated price table (lumen dev): the alerts say so.
    simulated_prices: bool = False

    async def warning(
        self, session: AsyncSession, envelope: Envelope, spent_usd: Decimal, attribution: Attribution, now: datetime
    ) -> None:
        view, channel = await self._describe(session, envelope, attribution, now)
        log.warning("lumen.budget.warning", envelope=envelope.key, spent_usd=str(spent_usd), limit_usd=str(envelope.limit_usd))
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": channel} | budget_warning_payload(view, spent_usd, simulated=self.simulated_prices),
            # Once a month per envelope, a daily one included: a warning every day would be noise.
            dedupe_key=f"budget-warning:{envelope.key}:{period_label(now, 'month')}",
        )

    async def stop(
        self, session: AsyncSession, refusal: Refusal, attribution: Attribution, model: str, now: datetime
    ) -> None:
        envelope = refusal.envelope
        if envelope.scope == "agent" and envelope.period == "month" and attribution.run_id is not None:
            return  # the failed run pauses the agent, and that post says what stopped
        view, channel = await self._describe(session, envelope, attribution, now)
        stopped = await _what_stopped(session, attribution, model)
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": channel}
            | budget_stop_payload(view, refusal.spent_usd, refusal.estimate_usd, stopped, simulated=self.simulated_prices and is_offline(model)),
            dedupe_key=f"budget-stop:{envelope.key}:{view.period_label}",
        )

    async def _describe(
        self, session: AsyncSession, envelope: Envelope, attribution: Attribution, now: datetime
    ) -> tuple[EnvelopeView, str]:
        label = period_label(now, envelope.period)
        field = f"budget_usd_{envelope.period}"
        if envelope.scope == "platform":
            view = EnvelopeView("the platform", "platform", envelope.period, label, envelope.limit_usd, f"workspace.{field}")
            return view, channel_address(None, self.platform_channel)
        if envelope.scope == "agent":
            agent = await session.get(Agent, envelope.subject_id)
            venture = await session.get(Venture, agent.venture_id) if agent else None
            owner = f"{venture.slug}/{agent.role}" if agent and venture else f"agent {envelope.subject_id}"
            setting = f"ventures[{venture.slug}].agents[{agent.role}].{field}" if agent and venture else field
        else:
            venture = await session.get(Venture, envelope.subject_id)
            owner = venture.slug if venture else f"venture {envelope.subject_id}"
            setting = f"ventures[{venture.slug}].{field}" if venture else field
        channel = venture.address if venture else channel_address(None, self.platform_channel)
        return EnvelopeView(owner, envelope.scope, envelope.period, label, envelope.limit_usd, setting), channel


async def _what_stopped(session: AsyncSession, attribution: Attribution, model: str) -> str:
    """`the ceo agent of acme's decide call (run 12) on openai/gpt-4o`: whose call, for what."""
    whose = "a"
    if attribution.agent_id is not None:
        agent = await session.get(Agent, attribution.agent_id)
        venture = await session.get(Venture, agent.venture_id) if agent else None
        if agent and venture:
            whose = f"the {agent.role} agent of {venture.slug}'s"
    elif attribution.venture_id is not None:
        venture = await session.get(Venture, attribution.venture_id)
        whose = f"{venture.slug}'s" if venture else "a"
    run = f" (run {attribution.run_id})" if attribution.run_id is not None else ""
    return f"{whose} {attribution.purpose} call{run} on {model}"
