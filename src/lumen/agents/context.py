"""What an agent sees when it wakes: the brain, not the raw history.

The context holds the venture and its goals, the current brain's statements (each with the
record and the decisions behind it), the platform insights about the agent's moves, the
decisions made since that brain, what waits for a human and what humans turned down lately
with their reasons, and the questions the venture's agents asked humans (still open, or
answered lately), so no agent asks again what is already asked or answered. Every read is bounded, and the rendered prompt is trimmed to a token
budget counted with the model's tokenizer, so the context is the same size at week 1 and
after 100k decisions: the brain carries the past.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents import repository
from lumen.agents.prompts import build_messages
from lumen.agents.steps import WakeContext
from lumen.brain import service as brain
from lumen.db.models import Agent, Venture
from lumen.domain.brain import SECTIONS
from lumen.domain.insights import relevant
from lumen.llm.context_block import (
    AgentInfo,
    BrainStatement,
    ContextBlock,
    DecisionInfo,
    InsightInfo,
    InsightItem,
    MoveRecord,
    PlaybookItem,
    QuestionInfo,
    Rejection,
    VentureInfo,
)

DECIDED_SINCE = 30  # the latest decisions since the brain
WAITING = 10
TURNED_DOWN = 10
TURNED_DOWN_DAYS = 90
INSIGHTS = 8
ASKED = 5  # questions awaiting an answer, and answers, newest first
ANSWERED_DAYS = 30
ASKED_CHARS = 500  # of a question or an answer, in the context

Count = Callable[[list[dict[str, Any]]], int]


@dataclass(frozen=True)
class Memory:
    """What of the past an agent is shown. Lumen shows all of it; the flywheel benchmark
    turns parts off to measure what each is worth."""

    brain: bool = True
    insights: bool = True
    history: bool = True  # recent decisions, waiting approvals, rejections


FULL = Memory()


def _day(moment: datetime | None, tz: str) -> str | None:
    return moment.astimezone(ZoneInfo(tz)).date().isoformat() if moment else None


def _playbook(venture: Venture) -> list[PlaybookItem]:
    return [
        PlaybookItem(
            title=a["title"],
            category=a["category"],
            rationale=a.get("rationale", ""),
            expected_effect=a.get("expected_effect", ""),
            amount_usd=Decimal(str(a["amount_usd"])) if a.get("amount_usd") is not None else None,
            role=a.get("role"),
            repeatable=bool(a.get("repeatable", False)),
        )
        for a in venture.playbook
    ]


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= ASKED_CHARS:
        return text
    return text[: ASKED_CHARS - 1] + "…"


def _question(question: Any, role: str, tz: str) -> QuestionInfo:
    return QuestionInfo(
        id=question.id,
        question=_clip(question.question) or "",
        options=[str(o) for o in question.options],
        asked_by=role,
        on=_day(question.created_at, tz),
        answer=_clip(question.answer),
        answered_on=_day(question.answered_at, tz) if question.answer is not None else None,
    )


def _statements(sections: dict[str, list[dict[str, Any]]]) -> list[BrainStatement]:
    out = []
    for section in SECTIONS:
        for s in sections.get(section, []):
            moves = [
                MoveRecord(
                    title=str(m.get("title", "")),
                    recent=str(m.get("recent", "")),
                    support=int(m.get("support") or 0),
                    open=len(m.get("ids", [])) if section == "open_bets" else 0,
                )
                for m in s.get("moves", [])
            ]
            out.append(
                BrainStatement(
                    section=section,
                    key=s.get("key"),
                    category=s.get("category"),
                    text=str(s.get("text", "")),
                    decision_ids=list(s.get("decision_ids", [])),
                    evidence={k: int(v) for k, v in (s.get("evidence") or {}).items()},
                    moves=moves,
                    change=s.get("change"),
                )
            )
    return out


async def load_context(
    session: AsyncSession,
    agent: Agent,
    venture: Venture,
    *,
    now: datetime,
    count: Count,
    budget: int,
    memory: Memory = FULL,
) -> WakeContext:
    """The agent's bounded context, trimmed to `budget` tokens (`count` counts a prompt)."""
    latest = await brain.latest_brain(session, venture.id) if memory.brain else None
    insight = await brain.latest_insight(session) if memory.insights else None
    playbook = _playbook(venture)
    decided, pending, rejected = [], [], []
    asked: list[Any] = []
    answered: list[Any] = []
    if memory.history:
        decided = list(await repository.decided_since(session, venture.id, latest.created_at if latest else None, DECIDED_SINCE))
        pending = list(await repository.waiting_for_humans(session, venture.id, WAITING))
        rejected = list(
            await repository.turned_down(session, venture.id, now - timedelta(days=TURNED_DOWN_DAYS), TURNED_DOWN)
        )
        asked, answered = await repository.asked_humans(session, venture.id, now - timedelta(days=ANSWERED_DAYS), ASKED)
    verdicts = await repository.latest_verdicts(session, [d.id for d in decided])
    tz = venture.timezone
    role_items = [i for i in playbook if i.role is None or i.role == agent.role]
    about = relevant(
        list(insight.insights) if insight else [],
        {i.category for i in role_items},
        {i.title for i in role_items},
        limit=INSIGHTS,
    )
    block = ContextBlock(
        task="decide",
        as_of=_day(now, tz),
        venture=VentureInfo(slug=venture.slug, name=venture.name, stage=venture.stage, goals=list(venture.goals)),
        agent=AgentInfo(role=agent.role),
        playbook=playbook,
        brain_version=latest.version if latest else None,
        brain=_statements(brain.sections_of(latest)) if latest else [],
        insight=InsightInfo(
            version=insight.version,
            week=insight.covers or insight.period,
            items=[
                InsightItem(
                    key=i.get("key"),
                    text=str(i.get("text", "")),
                    category=i.get("category"),
                    subject=i.get("subject"),
                    evidence={k: int(v) for k, v in (i.get("evidence") or {}).items()},
                    venture_count=i.get("venture_count"),
                )
                for i in about
            ],
        )
        if insight
        else None,
        since_brain=[
            DecisionInfo(
                id=d.id, title=d.title, category=d.category, status=d.status.value,
                outcome=verdicts.get(d.id), on=_day(d.created_at, tz),
            )
            for d in decided
        ],
        pending=[
            DecisionInfo(id=d.id, title=d.title, category=d.category, status=d.status.value, on=_day(d.created_at, tz))
            for d in pending
        ],
        rejected=[
            Rejection(title=d.title, reason=a.reason or "", decision_id=d.id, on=_day(a.resolved_at, tz)) for d, a in rejected
        ],
        asked=[_question(q, role, tz) for q, role in asked],
        answered=[_question(q, role, tz) for q, role in answered],
    )
    context = WakeContext(
        block=block,
        brain_version=latest.version if latest else None,
        brain_built=_day(latest.created_at, tz) if latest else None,
        insight_version=insight.version if insight else None,
        budget=budget,
    )
    return fit(context, count, budget)


def _shorten(items: list[Any], keep: int) -> bool:
    if len(items) <= keep:
        return False
    del items[keep:]
    return True


def _drop_section(block: ContextBlock, section: str) -> bool:
    kept = [s for s in block.brain if s.section != section]
    changed = len(kept) != len(block.brain)
    block.brain[:] = kept
    return changed


def _plain_playbook(block: ContextBlock) -> bool:
    changed = any(i.rationale or i.expected_effect for i in block.playbook)
    block.playbook[:] = [i.model_copy(update={"rationale": "", "expected_effect": ""}) for i in block.playbook]
    return changed


def _fewer_moves(block: ContextBlock) -> bool:
    changed = False
    for statement in block.brain:
        if len(statement.moves) > 3:
            del statement.moves[3:]
            changed = True
    return changed


# Least worth keeping first: what is left out when the prompt is over its budget.
_TRIMS: list[tuple[str, Callable[[ContextBlock], bool]]] = [
    ("older decisions since the brain", lambda b: _shorten(b.since_brain, 10)),
    ("insights beyond the best four", lambda b: _shorten(b.insight.items if b.insight else [], 4)),
    ("older rejections", lambda b: _shorten(b.rejected, 5)),
    ("older answers to agents' questions", lambda b: _shorten(b.answered, 2)),
    ("open bets", lambda b: _drop_section(b, "open_bets")),
    ("open questions", lambda b: _drop_section(b, "questions")),
    ("decisions since the brain", lambda b: _shorten(b.since_brain, 0)),
    ("answers to agents' questions", lambda b: _shorten(b.answered, 0)),
    ("older questions awaiting an answer", lambda b: _shorten(b.asked, 2)),
    ("moves beyond the latest three per statement", _fewer_moves),
    ("rationales in the playbook", _plain_playbook),
    ("insights", lambda b: _shorten(b.insight.items if b.insight else [], 0)),
]


def fit(context: WakeContext, count: Count, budget: int) -> WakeContext:
    """Trim the context, least valuable first, until its prompt fits `budget` tokens."""
    block = copy.deepcopy(context.block)
    trimmed: list[str] = []
    tokens = count(build_messages(context.model_copy(update={"block": block})))
    for label, trim in _TRIMS:
        if tokens <= budget:
            break
        if trim(block):
            trimmed.append(label)
            tokens = count(build_messages(context.model_copy(update={"block": block})))
    return context.model_copy(update={"block": block, "tokens": tokens, "trimmed": trimmed})
