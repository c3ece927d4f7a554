"""Names for the spend metrics: a venture's slug and an agent's role, not their ids.

Looked up once per venture and agent a process sees (one query), then kept: slugs and roles
never change under an id (a renamed venture in lumen.yml is a new venture).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from lumen.db.models import Agent, Venture
from lumen.db.session import Database
from lumen.llm.ledger import Attribution
from lumen.metrics import LLM_CALLS, LLM_SPEND, LLM_TOKENS


class SpendMetrics:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._ventures: dict[int, str] = {}
        self._agents: dict[int, str] = {}

    async def call(
        self,
        attribution: Attribution,
        model: str,
        outcome: str,
        *,
        cost_usd: Decimal = Decimal(0),
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        labels = await self._labels(attribution, model)
        LLM_CALLS.labels(*labels, outcome).inc()
        if cost_usd:
            LLM_SPEND.labels(*labels).inc(float(cost_usd))
        if prompt_tokens:
            LLM_TOKENS.labels(*labels, "prompt").inc(prompt_tokens)
        if completion_tokens:
            LLM_TOKENS.labels(*labels, "completion").inc(completion_tokens)

    async def _labels(self, attribution: Attribution, model: str) -> tuple[str, str, str, str]:
        venture_id, agent_id = attribution.venture_id, attribution.agent_id
        if (venture_id is not None and venture_id not in self._ventures) or (
            agent_id is not None and agent_id not in self._agents
        ):
            try:
                async with self.db.sessions() as session:
                    if venture_id is not None:
                        self._ventures[venture_id] = await session.scalar(select(Venture.slug).where(Venture.id == venture_id)) or str(venture_id)
                    if agent_id is not None:
                        self._agents[agent_id] = await session.scalar(select(Agent.role).where(Agent.id == agent_id)) or str(agent_id)
            except Exception:  # a metric is never worth failing a call for
                pass
        venture = self._ventures.get(venture_id, str(venture_id)) if venture_id is not None else ""
        agent = self._agents.get(agent_id, str(agent_id)) if agent_id is not None else ""
        return venture, agent, model, attribution.purpose
