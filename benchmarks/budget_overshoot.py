"""Overshoot: how far over its budget an envelope ends when 50 calls race for it.

Each scenario fires 50 concurrent calls through Lumen's gateway at a priced local
OpenAI-compatible stub (tests/support/openai_stub.py, served from this process) whose
tokenizer and billing differ from any estimate: it counts 2.5 characters a token (fewer than
the 3 Lumen falls back to, and than tiktoken's ~4 for English) and bills 1.3× the output cap
asked for (as a provider billing hidden reasoning tokens would). Overshoot is what the
provider billed in all, less the envelope, floored at 0. Target: 0 in every scenario.

Scenarios (each on a fresh database, so every model starts uncalibrated):
- agent_month: one agent's monthly envelope; venture_month: five agents of one venture under
  the venture's; platform_month: two ventures of five agents under the platform's; agent_day:
  an agent's daily envelope; known_tokenizer: agent_month on a model litellm knows the
  tokenizer of (gpt-4o-mini, priced here), counted with tiktoken while the stub counts 3 a token.
- litellm_max_budget: the same 50 calls straight through litellm with `litellm.max_budget` set
  to the same envelope (no Lumen), for comparison.

    python benchmarks/budget_overshoot.py [--databases sqlite,postgres] [--postgres-url URL] [--calls 50]

The Postgres URL defaults to LUMEN_TEST_POSTGRES_URL. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENAI_API_KEY", "sk-lumen-benchmark-not-a-key")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from lumen.db.migrate import upgrade  # noqa: E402
from lumen.db.models import Agent, Spend, Venture  # noqa: E402
from lumen.db.session import Database  # noqa: E402
from lumen.domain.budgets import Limits  # noqa: E402
from lumen.llm import Attribution, BudgetExceeded, Gateway, GatewayOptions, ModelTiers  # noqa: E402
from lumen.llm._litellm import litellm  # noqa: E402
from lumen.log import configure_logging  # noqa: E402
from tests.support.databases import fresh_database, postgres_admin_url  # noqa: E402
from tests.support.openai_stub import Billing, OpenAIStub, text  # noqa: E402

UNKNOWN = "openai/lumen-bench-priced"
KNOWN = "openai/gpt-4o-mini"
PRICE_IN, PRICE_OUT = 10e-6, 30e-6  # $10 and $30 per million tokens
MAX_TOKENS = 300
BUDGET = Decimal("0.25")  # about 18 of the stub's bills
PROMPT = (
    "You are the CEO agent of Acme Analytics. Context: MRR $38k, churn 3.4%, runway 14 months. "
    "Open bets: annual plan test, LinkedIn ads, churn benchmark report. Decide the next move. "
)


def _register_prices() -> None:
    prices = {"input_cost_per_token": PRICE_IN, "output_cost_per_token": PRICE_OUT, "litellm_provider": "openai", "mode": "chat"}
    litellm().register_model({UNKNOWN: prices, KNOWN: prices})


@dataclass(frozen=True)
class Scenario:
    name: str
    model: str
    chars_per_token: float
    ventures: int = 1
    agents: int = 1
    envelope: str = "agent_month"  # agent_month | agent_day | venture_month | platform_month
    calibrate: bool = True  # False: the ablation, estimates never scaled by what was billed


SCENARIOS = [
    Scenario("agent_month", UNKNOWN, 2.5),
    Scenario("venture_month", UNKNOWN, 2.5, agents=5, envelope="venture_month"),
    Scenario("platform_month", UNKNOWN, 2.5, ventures=2, agents=5, envelope="platform_month"),
    Scenario("agent_day", UNKNOWN, 2.5, envelope="agent_day"),
    Scenario("known_tokenizer", KNOWN, 3.0),
    # Not a target: the same race with calibration (and the first-bill wait) turned off, to show
    # what the tokenizer count and the full output cap alone leave over.
    Scenario("ablation_uncalibrated", UNKNOWN, 2.5, calibrate=False),
]


async def _seed(db: Database, s: Scenario) -> list[Attribution]:
    plenty = Decimal(1000)
    out = []
    async with db.transaction() as session:
        for v in range(s.ventures):
            venture = Venture(
                slug=f"v{v}x", name=f"Venture {v}", stage="idea", channel=f"venture-{v}",
                budget_usd_month=BUDGET if s.envelope == "venture_month" else None,
            )
            session.add(venture)
            await session.flush()
            for a in range(s.agents):
                agent = Agent(
                    venture_id=venture.id, role=f"r{a}x", schedule="0 9 * * 1",
                    budget_usd_month=BUDGET if s.envelope == "agent_month" else plenty,
                    budget_usd_day=BUDGET if s.envelope == "agent_day" else None,
                )
                session.add(agent)
                await session.flush()
                out.append(Attribution(purpose="decide", agent_id=agent.id, venture_id=venture.id))
    return out


async def _lumen(url: str, s: Scenario, stub: OpenAIStub, calls: int) -> dict[str, Any]:
    db = Database(url)
    try:
        await upgrade(db.engine)
        who = await _seed(db, s)
        platform = Limits(month_usd=BUDGET) if s.envelope == "platform_month" else None
        options = GatewayOptions(api_base=stub.base_url, timeout_s=30, max_output_tokens=MAX_TOKENS, max_attempts_per_model=1, max_concurrency_per_model=calls)
        gateway = Gateway(db, ModelTiers(fast=(s.model,), strong=(s.model,)), options, platform_budget=platform)
        if not s.calibrate:
            reserve = gateway.ledger.reserve_call
            gateway.ledger.reserve_call = lambda *a, **k: reserve(*a, **(k | {"calibrate": False}))  # type: ignore[method-assign]
        before = len(stub.requests)

        async def call(i: int) -> str:
            try:
                await gateway.complete("strong", [{"role": "user", "content": f"{PROMPT} (call {i})"}], attribution=who[i % len(who)])
                return "answered"
            except BudgetExceeded:
                return "stopped"

        outcomes = await asyncio.gather(*(call(i) for i in range(calls)))
        async with db.sessions() as session:
            billed = Decimal((await session.scalar(select(func.coalesce(func.sum(Spend.cost_usd), 0)))) or 0)
            unsettled = await session.scalar(select(func.count()).select_from(Spend).where(Spend.settled.is_(False)))
            reserved = await session.scalar(select(func.coalesce(func.sum(Spend.estimate_usd), 0)))
        return _figures(outcomes, billed, len(stub.requests) - before) | {
            "unsettled_rows": unsettled,
            "estimated_usd_total": float(Decimal(str(reserved))),
        }
    finally:
        await db.dispose()


async def _litellm_max_budget(stub: OpenAIStub, calls: int) -> dict[str, Any]:
    lm = litellm()
    lm.max_budget, lm._current_cost = float(BUDGET), 0.0
    before = len(stub.requests)

    async def call(i: int) -> tuple[str, Decimal]:
        try:
            response = await lm.acompletion(
                model=UNKNOWN, api_base=stub.base_url, max_tokens=MAX_TOKENS, num_retries=0,
                messages=[{"role": "user", "content": f"{PROMPT} (call {i})"}],
            )
        except lm.BudgetExceededError:
            return "stopped", Decimal(0)
        return "answered", Decimal(str(response._hidden_params.get("response_cost") or 0))

    try:
        results = await asyncio.gather(*(call(i) for i in range(calls)))
    finally:
        tracked = lm._current_cost
        lm.max_budget, lm._current_cost = None, 0.0
    billed = sum((cost for _, cost in results), Decimal(0))
    return _figures([r for r, _ in results], billed, len(stub.requests) - before) | {"litellm_tracked_cost_usd": tracked}


def _figures(outcomes: list[str], billed: Decimal, requests: int) -> dict[str, Any]:
    overshoot = max(Decimal(0), billed - BUDGET)
    return {
        "budget_usd": float(BUDGET),
        "billed_usd": round(float(billed), 6),
        "overshoot_usd": round(float(overshoot), 6),
        "overshoot_pct": round(float(overshoot / BUDGET * 100), 2),
        "answered": outcomes.count("answered"),
        "stopped": outcomes.count("stopped"),
        "provider_requests": requests,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=postgres_admin_url())
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    configure_logging("ERROR")
    _register_prices()
    report: dict[str, Any] = {
        "calls_per_scenario": args.calls,
        "stub": {"chars_per_token": "2.5 (known_tokenizer: 3)", "output_billed_over_cap": 1.3, "max_tokens": MAX_TOKENS},
        "databases": {},
    }
    for kind in args.databases.split(","):
        if kind == "postgres" and not args.postgres_url:
            report["databases"][kind] = "skipped: no --postgres-url or LUMEN_TEST_POSTGRES_URL"
            continue
        results = {}
        for s in SCENARIOS:
            stub = await OpenAIStub(billing=Billing(chars_per_token=s.chars_per_token, output_over_ask=1.3)).start()
            stub.set_default(text("We launch the annual plan test this week.", delay_s=0.05))
            try:
                async with fresh_database(kind, args.postgres_url, prefix="lumen_bench_budget") as url:
                    results[s.name] = await _lumen(url, s, stub, args.calls)
            finally:
                await stub.close()
        report["databases"][kind] = results
    stub = await OpenAIStub(billing=Billing(chars_per_token=2.5, output_over_ask=1.3)).start()
    stub.set_default(text("We launch the annual plan test this week.", delay_s=0.05))
    try:
        report["litellm_max_budget"] = await _litellm_max_budget(stub, args.calls)
    finally:
        await stub.close()
    overshoots = [
        r["overshoot_usd"] for d in report["databases"].values() if isinstance(d, dict) for name, r in d.items() if not name.startswith("ablation")
    ]
    report["lumen_max_overshoot_usd"] = max(overshoots) if overshoots else None
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
