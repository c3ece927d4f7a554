"""Routing savings: a fixed mix of tasks, routed by complexity, against the strong tier alone.

Every call goes through Lumen's gateway (litellm over HTTP, the spend ledger on a SQLite
database) and `engine.routed_step.call_routed`, the code a wake-up, a synthesis and Ask run,
to an OpenAI-compatible stub serving two priced models:

- `bench-fast`  $0.15 / $0.60 per million tokens in / out
- `bench-strong` $2.50 / $10.00 per million tokens in / out

The stub models what the issue asks about, not Lumen's rules: each task is routine or hard
(hidden from Lumen; the rules see only the task's features, drawn with noise from that), and
- the strong model answers right 99 % of the time on routine tasks, 97 % on hard ones;
- the fast model answers right 95 % of the time on routine tasks and 55 % on hard ones; when it
  is wrong it writes invalid arguments (35 %), says it is unsure (45 %, confidence 0.2-0.65), or
  is confidently wrong (20 %); right answers carry confidence 0.65-0.97, so some are escalated
  for nothing;
- asked to route a task, the fast model picks the right tier 80-85 % of the time.
An answer is valid when it passes the tool's pydantic schema AND matches the task's known right
answer (the move to make, the week's lesson, the venture asked about). The stub finds a task's
hidden truth by the `task #N` tag in its prompt: a benchmark artefact, never read by Lumen.

The mix (per 100 tasks): 35 routine and 15 hard decisions, 12 quiet and 8 busy synthesis weeks,
20 plain and 10 hard questions; each task's features (open moves, gated or paid ones, decisions
since the brain, words in a question, ...) are drawn from its kind with the seed.

Modes, on the same tasks with the same per-task draws:
- strong_only: every task on the strong tier (policy `fixed`, tier strong)
- routed: `routing: {mode: auto}` with the default thresholds
- fast_only: every task on the fast tier, nothing escalated (the floor routing must beat)

    python benchmarks/routing_savings.py [--tasks 200] [--seed 7]

Prints one JSON object. Target: routed saves >= 40 % of strong_only's cost at equal validity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENAI_API_KEY", "sk-lumen-benchmark-not-a-key")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from lumen.ask.model_query import TOOL_NAME as ASK_TOOL  # noqa: E402
from lumen.ask.model_query import QueryArguments  # noqa: E402
from lumen.db.migrate import upgrade  # noqa: E402
from lumen.db.models import Spend  # noqa: E402
from lumen.db.session import Database  # noqa: E402
from lumen.domain.brain_schema import WRITE_BRAIN, WriteBrain  # noqa: E402
from lumen.domain.proposals import PROPOSE_DECISIONS, ProposeDecisions  # noqa: E402
from lumen.domain.routing import (  # noqa: E402
    ROUTE_TASK,
    DecisionTask,
    QuestionTask,
    Route,
    RoutingPolicy,
    SynthesisTask,
    route_decision,
    route_question,
    route_synthesis,
)
from lumen.engine.routed_step import Unjournaled, call_routed  # noqa: E402
from lumen.llm import Attribution, Gateway, GatewayOptions, LLMError, ModelTiers  # noqa: E402
from lumen.llm._litellm import litellm  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from tests.support.openai_stub import Behaviour, OpenAIStub, tool_call  # noqa: E402

FAST, STRONG = "openai/bench-fast", "openai/bench-strong"
PRICES = {FAST: (0.15e-6, 0.60e-6), STRONG: (2.50e-6, 10.0e-6)}
TOOLS: dict[str, tuple[str, type[BaseModel]]] = {
    "decide": (PROPOSE_DECISIONS, ProposeDecisions),
    "synthesize": (WRITE_BRAIN, WriteBrain),
    "ask": (ASK_TOOL, QueryArguments),
}
SLUGS = ["acme", "brightbox", "cobalt", "dune", "ember", "fjord"]
MOVES = [
    "Interview five churned customers", "Publish a churn benchmark report", "Run a referral email to power users",
    "Add an onboarding checklist", "Test a shorter trial", "Write a case study with the top customer",
]
# The fixed mix, per 100 tasks: (kind, hard, how many). A third of the work is hard.
MIX = [
    ("decide", False, 35), ("decide", True, 15),
    ("synthesize", False, 12), ("synthesize", True, 8),
    ("ask", False, 20), ("ask", True, 10),
]
FILLER = "Context line: a recorded decision, its outcome and the brain statement it followed. "


@dataclass
class Task:
    id: int
    kind: str  # decide | synthesize | ask
    hard: bool  # hidden from Lumen: only the stub reads it
    features: DecisionTask | SynthesisTask | QuestionTask
    answer: str
    wrong: str
    prompt_tokens: int
    output_chars: int

    def route(self, policy: RoutingPolicy) -> Route:
        if isinstance(self.features, DecisionTask):
            return route_decision(self.features, policy)
        if isinstance(self.features, SynthesisTask):
            return route_synthesis(self.features, policy)
        return route_question(self.features, policy)

    def summary(self) -> str:
        return f"task #{self.id}: " + ", ".join(f"{k}={v}" for k, v in vars(self.features).items())

    def messages(self) -> list[dict[str, str]]:
        body = FILLER * max(1, (self.prompt_tokens * 4) // len(FILLER))
        return [
            {"role": "system", "content": f"You do the {self.kind} task with the tool given."},
            {"role": "user", "content": f"task #{self.id}\n{body}"},
        ]


def mix_for(hard_share: float) -> list[tuple[str, bool, int]]:
    """The default mix with its hard tasks scaled to `hard_share` of the work, kind by kind."""
    totals = {"decide": 50, "synthesize": 20, "ask": 30}
    default_hard = {kind: n for kind, hard, n in MIX if hard}
    scale = hard_share / (sum(default_hard.values()) / 100)
    mix = []
    for kind, total in totals.items():
        hard = min(total, round(default_hard[kind] * scale))
        mix += [(kind, False, total - hard), (kind, True, hard)]
    return mix


def make_tasks(count: int, seed: int, mix: list[tuple[str, bool, int]] = MIX) -> list[Task]:
    rng = random.Random(seed)
    tasks: list[Task] = []
    kinds = [(kind, hard) for kind, hard, n in mix for _ in range(n)]
    for i in range(count):
        kind, hard = kinds[i % len(kinds)]
        if kind == "decide":
            features: Any = DecisionTask(
                open_moves=rng.randint(2, 6) if hard else rng.randint(1, 4),
                weighty_moves=int(rng.random() < (0.70 if hard else 0.15)),
                has_brain=rng.random() < (0.85 if hard else 0.95),
                since_brain=rng.randint(3, 14) if hard else rng.randint(0, 6),
                pending_approvals=int(rng.random() < (0.30 if hard else 0.10)),
                recent_rejections=int(rng.random() < (0.25 if hard else 0.05)),
            )
            tokens, out = (rng.randint(2000, 3200), 1100)
        elif kind == "synthesize":  # a hard week is busy or troubled
            decisions = rng.randint(6, 25) if hard else rng.randint(1, 6)
            features = SynthesisTask(
                has_brain=rng.random() < 0.95,
                decisions=decisions,
                failures=rng.randint(0, 5) if hard else int(rng.random() < 0.2),
                outcomes=rng.randint(0, decisions),
            )
            tokens, out = (rng.randint(4000, 8000), 4800) if hard else (rng.randint(1200, 2200), 1800)
        else:
            features = QuestionTask(
                words=rng.randint(15, 70) if hard else rng.randint(5, 20),
                ventures_named=rng.randint(0, 3) if hard else 1,
                rules_found=rng.random() < (0.5 if hard else 0.85),
            )
            tokens, out = (rng.randint(600, 900), 240)
        pool = MOVES if kind != "ask" else SLUGS
        answer, wrong = rng.sample(pool, 2)
        tasks.append(Task(i, kind, hard, features, answer, wrong, tokens, out))
    rng.shuffle(tasks)
    return tasks


# --- the stub's model of the two tiers --------------------------------------------------------


def arguments(task: Task, answer: str, confidence: float) -> dict[str, Any]:
    pad = "x" * max(0, task.output_chars - 200)
    if task.kind == "decide":
        decision = {"category": "research", "title": answer, "rationale": f"Because the brain says so. {pad}"}
        return {"decisions": [decision], "summary": "one move", "confidence": round(confidence, 2)}
    if task.kind == "synthesize":
        # A brain's worth of statements, each within the schema's 1,500 characters.
        worked = [{"text": f"Statement {n}: {'y' * 900}", "decision_ids": [n + 1]} for n in range(len(pad) // 1000)]
        principle = {"text": f"What worked best: {answer}.", "decision_ids": [1, 2]}
        return {"principles": [principle], "worked": worked[:12], "summary": f"best: {answer}", "confidence": round(confidence, 2)}
    return {"ventures": [answer], "terms": ["churn"], "confidence": round(confidence, 2)}


def correct(task: Task, value: BaseModel) -> bool:
    if isinstance(value, ProposeDecisions):
        return [d.title for d in value.decisions] == [task.answer]
    if isinstance(value, WriteBrain):
        return value.summary == f"best: {task.answer}"
    return isinstance(value, QueryArguments) and value.ventures == [task.answer]


def respond(tasks: dict[int, Task], seed: int):  # type: ignore[no-untyped-def]
    def behaviour(body: dict[str, Any]) -> Behaviour:
        text = json.dumps(body.get("messages", []))
        task = tasks[int(re.search(r"task #(\d+)", text).group(1))]  # type: ignore[union-attr]
        model = "openai/" + str(body.get("model"))
        tool = body["tools"][0]["function"]["name"]
        # The same draw for the same task, model and tool, whichever mode asks.
        rng = random.Random(f"{seed}:{task.id}:{model}:{tool}")
        if tool == ROUTE_TASK:
            right = rng.random() < (0.80 if task.hard else 0.85)
            tier = ("strong" if task.hard else "fast") if right else ("fast" if task.hard else "strong")
            return tool_call(ROUTE_TASK, {"tier": tier, "reason": "judged from the features"})
        name = TOOLS[task.kind][0]
        if model == STRONG:
            ok = rng.random() < (0.97 if task.hard else 0.99)
            return tool_call(name, arguments(task, task.answer if ok else task.wrong, rng.uniform(0.8, 1.0)))
        if rng.random() < (0.55 if task.hard else 0.95):
            return tool_call(name, arguments(task, task.answer, rng.uniform(0.65, 0.97)))
        failure = rng.random()
        if failure < 0.35:
            return tool_call(name, '{"decisions": [ {"title": "unterminated')
        if failure < 0.80:
            return tool_call(name, arguments(task, task.wrong, rng.uniform(0.2, 0.65)))
        return tool_call(name, arguments(task, task.wrong, rng.uniform(0.7, 0.9)))

    return behaviour


# --- running a mode -----------------------------------------------------------------------------


@dataclass
class Tally:
    valid: int = 0
    answered: int = 0
    kept_fast: int = 0
    escalated: int = 0
    strong_direct: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # hard/routine x final tier


async def run_mode(mode: str, tasks: list[Task], api_base: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/routing.db")
        await upgrade(db.engine)
        gateway = Gateway(db, ModelTiers(fast=(FAST,), strong=(STRONG,)), GatewayOptions(api_base=api_base, max_output_tokens=2048))
        policy = RoutingPolicy(mode="auto") if mode == "routed" else RoutingPolicy()
        tier = "fast" if mode == "fast_only" else "strong"
        tally = Tally()
        slots = asyncio.Semaphore(8)
        watched = _Watch()

        async def one(task: Task) -> None:
            tool_name, tool_model = TOOLS[task.kind]
            async with slots:
                try:
                    call = await call_routed(
                        watched, gateway, policy=policy, route=task.route(policy), task=task.kind, summary=task.summary(),
                        tool_name=tool_name, tool_model=tool_model, messages=task.messages(),
                        attribution=Attribution(purpose=task.kind, run_id=None), fixed_tier=tier,  # type: ignore[arg-type]
                        step_name=f"{tool_name}#{task.id}",
                    )
                    ok = correct(task, call.value)
                    tally.answered += 1
                    fast = call.model == FAST
                except LLMError:
                    ok, fast = False, False
            key = f"{'hard' if task.hard else 'routine'} answered by {'fast' if fast else 'strong'}"
            outcome = tally.outcomes.setdefault(key, {"tasks": 0, "valid": 0})
            outcome["tasks"] += 1
            outcome["valid"] += ok
            kind = tally.by_kind.setdefault(task.kind, {"tasks": 0, "valid": 0})
            kind["tasks"] += 1
            kind["valid"] += ok
            tally.valid += ok

        await asyncio.gather(*(one(t) for t in tasks))
        async with db.sessions() as session:
            rows = (await session.execute(select(Spend.purpose, Spend.model, func.sum(Spend.cost_usd), func.count()).group_by(Spend.purpose, Spend.model))).all()
        await db.dispose()
    cost = sum((Decimal(r[2]) for r in rows), Decimal(0))
    result: dict[str, Any] = {
        "cost_usd": float(round(cost, 6)),
        "valid_share": round(tally.valid / len(tasks), 4),
        "calls": sum(r[3] for r in rows),
        "cost_by_purpose_and_model": {f"{p} {m.split('/')[-1]}": float(round(Decimal(c), 6)) for p, m, c, _ in rows},
        "valid_by_kind": {k: f"{v['valid']}/{v['tasks']}" for k, v in sorted(tally.by_kind.items())},
    }
    if mode == "routed":
        result["answered_by"] = {k: f"{v['valid']}/{v['tasks']} valid" for k, v in sorted(tally.outcomes.items())}
        result["routes"] = watched.routes
        result["escalations"] = watched.escalations
    return result


class _Watch(Unjournaled):
    """Unjournaled steps that count which route each task took."""

    def __init__(self) -> None:
        self.routes: dict[str, int] = {}
        self.escalations: dict[str, int] = {}

    async def step(self, kind, name, action, output_type, **kwargs):  # type: ignore[no-untyped-def]
        output = await super().step(kind, name, action, output_type, **kwargs)
        if name.startswith("route:"):
            key = f"{output.tier} by {output.by}"
            self.routes[key] = self.routes.get(key, 0) + 1
        return output

    async def note(self, kind, name, output):  # type: ignore[no-untyped-def]
        if name.startswith("escalate:"):
            key = "invalid" if "failed" in output.reason else "low confidence"
            self.escalations[key] = self.escalations.get(key, 0) + 1
        return output


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sweep", type=float, nargs="*", default=[0.2, 0.5], help="other shares of hard tasks to report")
    args = parser.parse_args()
    configure_logging("ERROR")  # escalations log warnings by design
    litellm().register_model(
        {m: {"input_cost_per_token": i, "output_cost_per_token": o, "litellm_provider": "openai", "mode": "chat"} for m, (i, o) in PRICES.items()}
    )
    tasks = make_tasks(args.tasks, args.seed)
    known: dict[int, Task] = {t.id: t for t in tasks}
    stub = OpenAIStub(responder=respond(known, args.seed))
    await stub.start()
    sweep: dict[str, dict[str, float]] = {}
    try:
        results = {mode: await run_mode(mode, tasks, stub.base_url) for mode in ("strong_only", "routed", "fast_only")}
        # How the saving moves with the share of hard work (same seed, fresh draws of features).
        for share in args.sweep:
            other = make_tasks(args.tasks, args.seed, mix_for(share))
            known.clear()
            known.update({t.id: t for t in other})
            pair = {mode: await run_mode(mode, other, stub.base_url) for mode in ("strong_only", "routed")}
            sweep[f"{share:.0%} hard"] = {
                "saved_pct": round(100 * (1 - pair["routed"]["cost_usd"] / pair["strong_only"]["cost_usd"]), 1),
                "valid_share_strong_only": pair["strong_only"]["valid_share"],
                "valid_share_routed": pair["routed"]["valid_share"],
            }
    finally:
        await stub.close()
    strong, routed = results["strong_only"], results["routed"]
    saved = 1 - routed["cost_usd"] / strong["cost_usd"] if strong["cost_usd"] else 0.0
    mix: dict[str, int] = {}
    for t in tasks:
        key = f"{t.kind} {'hard' if t.hard else 'routine'}"
        mix[key] = mix.get(key, 0) + 1
    print(
        json.dumps(
            {
                "tasks": len(tasks),
                "seed": args.seed,
                "mix": dict(sorted(mix.items())),
                "prices_per_million_usd": {m.split("/")[-1]: {"in": i * 1e6, "out": o * 1e6} for m, (i, o) in PRICES.items()},
                "cost_strong_only_usd": strong["cost_usd"],
                "cost_routed_usd": routed["cost_usd"],
                "saved_pct": round(100 * saved, 1),
                "valid_share_strong_only": strong["valid_share"],
                "valid_share_routed": routed["valid_share"],
                "valid_share_fast_only": results["fast_only"]["valid_share"],
                "target": "saved_pct >= 40 at valid_share_routed >= valid_share_strong_only - 0.01",
                "met": saved >= 0.40 and routed["valid_share"] >= strong["valid_share"] - 0.01,
                "modes": results,
                "by_hard_share": sweep,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
