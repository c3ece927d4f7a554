"""How the offline model decides: from the brain and the insights it is given, nothing else.

It weighs each playbook move open to the agent's role by what the context says of it, as a
belief about the chance the move works (a Beta distribution):
- the brain's record of the move (its recent tries: "SSF" is worked, worked, failed);
- the platform insights about the move, or its category, as a prior from other ventures,
  worth a few tries of its own (a venture with little history leans on them);
and scores it by the belief's mean plus one standard deviation: a move little is known about
gets its chance, a move known to work is made again, a move whose record aged out is tried
again. It picks the best score. It does not
repeat a one-off move the brain or the recent decisions show was made, nor one waiting for a
human, nor one humans turned down lately. With no record at all every move scores alike, and
the playbook's order (the team's priorities) breaks the tie.

Pure and deterministic: the same context gives the same decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from lumen.domain.brain import Evidence, move_key
from lumen.llm.context_block import ContextBlock, InsightItem, PlaybookItem

PRIOR_MOVE = 3.0  # tries' worth of weight an insight about the same move carries
PRIOR_CATEGORY = 1.5  # … and one about the move's category
BONUS = 1.0
COOL_DOWN_DAYS = 28  # a move humans turned down is not proposed again this soon


@dataclass(frozen=True)
class Weighed:
    item: PlaybookItem
    evidence: Evidence
    prior: tuple[float, float]  # pseudo-successes, pseudo-failures
    score: float
    insight: InsightItem | None
    position: int  # in the playbook


def for_role(ctx: ContextBlock) -> list[PlaybookItem]:
    role = ctx.agent.role if ctx.agent else None
    return [item for item in ctx.playbook if item.role is None or item.role == role]


def _records(ctx: ContextBlock) -> dict[str, Evidence]:
    """Each move's recent record, as the brain states it."""
    records: dict[str, Evidence] = {}
    for statement in ctx.brain:
        for move in statement.moves:
            if move.recent:
                records[move_key(move.title)] = Evidence.of(move.recent)
    return records


def _made(ctx: ContextBlock) -> set[str]:
    """Moves the brain or the recent decisions show were made (tried, open, or turned down)."""
    made = {move_key(m.title) for s in ctx.brain for m in s.moves}
    made |= {move_key(d.title) for d in ctx.since_brain if d.status not in ("rejected", "expired")}
    return made


def _blocked(ctx: ContextBlock) -> dict[str, str]:
    """Moves not to propose now, and why: waiting for a human, or turned down in the last weeks
    (the offline model has no new argument to answer a human's reason with)."""
    blocked = {move_key(d.title): "it is waiting for a human" for d in ctx.pending}
    today = _date(ctx.as_of)
    for rejection in ctx.rejected:
        on = _date(rejection.on)
        if today and on and (today - on).days > COOL_DOWN_DAYS:
            continue
        reason = f": {rejection.reason}" if rejection.reason else ""
        blocked.setdefault(move_key(rejection.title), f"a human turned it down lately{reason}")
    return blocked


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _prior(ctx: ContextBlock, item: PlaybookItem) -> tuple[tuple[float, float], InsightItem | None]:
    if ctx.insight is None:
        return (1.0, 1.0), None
    by_key = {i.key: i for i in ctx.insight.items if i.key}
    for key, weight in ((f"move:{move_key(item.title)}", PRIOR_MOVE), (f"category:{item.category}", PRIOR_CATEGORY)):
        insight = by_key.get(key)
        if insight is None:
            continue
        rate = Evidence.from_json(insight.evidence).rate
        if rate is None:
            continue
        return (1.0 + weight * rate, 1.0 + weight * (1 - rate)), insight
    return (1.0, 1.0), None


def weigh(ctx: ContextBlock) -> tuple[list[Weighed], dict[str, str]]:
    """Every move the agent may make now, best first; and the moves left out, with why."""
    records = _records(ctx)
    made = _made(ctx)
    blocked = _blocked(ctx)
    left_out: dict[str, str] = {}
    candidates = []
    for item in for_role(ctx):
        key = move_key(item.title)
        if key in blocked:
            left_out[item.title] = blocked[key]
        elif not item.repeatable and key in made:
            left_out[item.title] = "it was made already, once is enough"
        else:
            candidates.append(item)
    weighed = []
    for position, item in enumerate(candidates):
        ev = records.get(move_key(item.title), Evidence())
        (a, b), insight = _prior(ctx, item)
        alpha, beta = a + ev.worked + 0.5 * ev.mixed, b + ev.failed + 0.5 * ev.mixed
        mean = alpha / (alpha + beta)
        bonus = BONUS * math.sqrt(mean * (1 - mean) / (alpha + beta + 1))
        # Rounded, so that equal evidence ties exactly and the playbook's order decides.
        weighed.append(Weighed(item, ev, (a, b), round(mean + bonus, 9), insight, position))  # ties: the order
    weighed.sort(key=lambda w: (-w.score, w.position))
    return weighed, left_out
