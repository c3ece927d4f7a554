"""Chaos: replicas on Postgres under a steady load, SIGKILLed and restarted at random, while
Slack goes slow, answers 500, refuses connections and rate-limits in turn. Afterwards,
everything that was expected happened exactly once.

The load is what people and schedules make: wake-ups (queued as the scheduler queues them,
each deciding one ungated and one gated move), approvals clicked (again, by a person who sees
nothing happen), "Show trail" clicks, questions (mentions and DMs: Events API), and slash
commands. Slack is the dev workspace, behind a load balancer for its deliveries; the model is
the OpenAI-compatible stub, priced, so that every call reserves budget.

What is checked at the end (`Report.problems`):
- every post the outbox sent is in Slack once (posts carry their outbox key in their metadata),
  and no post is there that the outbox did not send; every decision was posted;
- every approval resolved once (one vote), its message updated once per update sent;
- every run ended; the outbox empty, nothing dead; no reservation unsettled; no event unhandled;
- every question Slack delivered answered once, in its thread;
- every clicked trail shown once in its thread; every command Slack delivered answered once. Slack
  never retries either: a replica killed after taking one leaves its receipt, and another
  replica answers it from there. A response_url reply cannot be looked for afterwards, so a
  command whose replica was killed within RISK_S of its ack (while its reply was on the way)
  may be answered twice: those are counted apart, and allowed one or two answers. A command
  whose work met the database down is told so, and answered when it is handled again.

Shared by tests/chaos/test_chaos.py (about a minute) and benchmarks/chaos.py (any duration).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from devslack import Delivery, Workspace
from devslack import start as start_workspace
from lumen.agents import service as agents
from lumen.config import parse_config
from lumen.db.models import (
    Approval,
    ApprovalStatus,
    ApprovalVote,
    Decision,
    OutboxMessage,
    OutboxStatus,
    Run,
    RunStatus,
    SlackEventReceipt,
    Spend,
    Venture,
)
from lumen.db.session import Database
from lumen.domain.proposals import PROPOSE_DECISIONS
from lumen.engine.inbox import MAX_ATTEMPTS
from lumen.engine.slack_calls import METADATA_TYPE
from lumen.render.messages import command_failed
from lumen.render.approvals import APPROVE_ACTION
from lumen.render.decisions import TRAIL_ACTION
from lumen.runtime import prepare
from lumen.settings import Settings
from tests.support.balancer import SERVED_BY, Balancer
from tests.support.openai_stub import OpenAIStub, tool_call
from tests.approvals.support import approve
from tests.support.replicas import ReplicaProcess, replica_env

EXAMPLE_CONFIG = Path(__file__).parents[2] / "src" / "lumen" / "templates" / "lumen.example.yml"
STUB_MODEL = "openai/stub-model"
PRICE = f"{STUB_MODEL}:0.000001:0.000002"
RISK_S = 3.0
ACTIVE_RUNS = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL)
WAKES = (("acme", "ceo"), ("acme", "cmo"), ("brightbox", "ceo"))
APPROVERS = {"acme": ("U0ALICE", "U0BOB"), "brightbox": ("U0ALICE",)}
# Every wake-up decides one move that goes ahead and one a human must approve.
MOVES = {
    "decisions": [
        {"category": "marketing", "title": "Publish the churn benchmark", "rationale": "Readers ask for it."},
        {"category": "pricing_change", "title": "Try annual plans at two months free", "rationale": "Cash up front."},
    ],
    "summary": "One move now, one for a human.",
}
WEATHER = ("slow", "500", "refused", "429")


@dataclass
class Options:
    duration: float = 40.0
    replicas: int = 3
    seed: int = 13
    phase_s: float = 5.0  # each kind of bad weather lasts this long, with calm in between
    kill_every: tuple[float, float] = (3.0, 7.0)
    wake_every: float = 1.5
    settle_timeout: float = 120.0
    killing: bool = True  # SIGKILL and restart replicas at random
    weather: bool = True  # Slack slow, 500, refused, 429 in turn
    # Other trouble, at so many seconds into the load (a Postgres restart, say).
    events: list[tuple[float, Callable[[], Awaitable[None]]]] = field(default_factory=list)


@dataclass
class Sent:
    """A delivery the load made: what, when it finished, and what it was about."""

    kind: str
    delivery: Delivery | None
    done_at: float
    about: Any = None


@dataclass
class Report:
    counts: dict[str, Any]
    problems: list[str]
    figures: dict[str, Any] = field(default_factory=dict)


def chaos_config_yaml() -> str:
    """The demo lumen.yml with schedules that never fire during a run: wake-ups come from the load."""
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for venture in data["ventures"]:
        for agent in venture["agents"]:
            agent["schedule"] = "0 0 1 1 *"
    return yaml.safe_dump(data, sort_keys=False)


class Chaos:
    def __init__(self, database_url: str, workdir: Path, options: Options | None = None, say: Callable[[str], None] = print) -> None:
        self.url = database_url
        self.workdir = workdir
        self.options = options or Options()
        self.say = say
        self.rng = random.Random(self.options.seed)
        self.sent: list[Sent] = []
        self.kills: list[tuple[str, float]] = []  # (replica url, when)
        self.phases: list[str] = []
        self.wakeups = 0
        self.approval_clicks = 0
        self._clicked_at: dict[int, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._restarts: set[asyncio.Task[Any]] = set()
        self.replicas: list[ReplicaProcess] = []

    # --- the run ----------------------------------------------------------------------------

    async def run(self, check_replicas: Callable[[list[str]], Awaitable[list[str]]] | None = None) -> Report:
        """Load and chaos, then settle and check. `check_replicas` looks at the live replicas
        (their base URLs) before they stop, and returns problems."""
        async with AsyncExitStack() as stack:
            self.stub = await OpenAIStub().start()
            stack.push_async_callback(self.stub.close)
            self.stub.set_default(dataclasses.replace(tool_call(PROPOSE_DECISIONS, MOVES), text="Stub answer: see the records below.", delay_s=0.3))
            self.balancer = Balancer()
            await self.balancer.start()
            stack.push_async_callback(self.balancer.close)
            config_path = self.workdir / "lumen.yml"
            config_path.write_text(chaos_config_yaml(), encoding="utf-8")
            config = parse_config(config_path.read_text(encoding="utf-8"), source=str(config_path))
            self.ws = ws = Workspace.demo(retry_delays=(1.0, 2.0, 4.0), request_url=f"{self.balancer.url}/slack/events")
            for venture in config.ventures:
                ws.ensure_channel(venture.channel, is_private=venture.private)
            ws.ensure_channel(config.workspace.platform_channel)
            runner, ws_url = await start_workspace(ws)
            stack.push_async_callback(runner.cleanup)
            stack.push_async_callback(ws.settle)
            settings = Settings(
                SLACK_BOT_TOKEN=ws.bot_token,
                SLACK_SIGNING_SECRET=ws.signing_secret,
                SLACK_API_URL=f"{ws_url}/api/",
                LUMEN_DATABASE_URL=self.url,
                LUMEN_CONFIG=str(config_path),
                LUMEN_MODEL_STRONG=STUB_MODEL,
                LUMEN_MODEL_FAST=STUB_MODEL,
                LUMEN_MODEL_API_BASE=self.stub.base_url,
            )
            container = await prepare(settings, config)  # migrate and sync once, before the replicas
            self.db: Database = container.db
            stack.push_async_callback(self.db.dispose)
            env = replica_env(
                settings,
                LUMEN_TEST_QUICK="1",
                LUMEN_TEST_PRICED_MODEL=PRICE,
                LUMEN_TEST_WORKERS="2",
                LUMEN_LLM_TIMEOUT="5",
                OPENAI_API_KEY="sk-lumen-test-not-a-key",
            )
            self.replicas = [ReplicaProcess(f"replica-{n}", env, self.workdir) for n in range(self.options.replicas)]
            stack.push_async_callback(self._stop_replicas)
            for replica in await asyncio.gather(*(r.start() for r in self.replicas)):
                self.balancer.add(replica)
            started = time.monotonic()
            self.say(f"chaos: {len(self.replicas)} replicas up; load for {self.options.duration:.0f} s")

            load = [
                self._every(self.options.wake_every, self._wake),
                self._every(0.5, self._click_approvals),
                self._every(3.0, self._click_trail),
                self._every(2.5, self._ask),
                self._every(2.0, self._command),
                *([self._killer()] if self.options.killing else []),
                *([self._weather()] if self.options.weather else []),
                *(self._at(when, event) for when, event in self.options.events),
            ]
            loops = [asyncio.create_task(c) for c in load]
            await asyncio.sleep(self.options.duration)
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._calm()
            await asyncio.gather(*self._restarts, return_exceptions=True)
            for replica in self.replicas:
                if not replica.alive:
                    self.balancer.add(await replica.start())
            self.say(f"chaos: load stopped after {time.monotonic() - started:.0f} s; settling")
            settled = await self._settle()
            self.say(f"chaos: settled in {settled:.0f} s" if settled >= 0 else "chaos: did not settle")
            report = await self._report(settled, time.monotonic() - started)
            if check_replicas is not None:
                report.problems += await check_replicas([r.url for r in self.replicas if r.url])
            return report

    async def _stop_replicas(self) -> None:
        await asyncio.gather(*(r.stop() for r in self.replicas), return_exceptions=True)

    # --- load -------------------------------------------------------------------------------

    async def _every(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * seconds)
            try:
                await action()
            except Exception as exc:  # the load must go on; the checks at the end tell
                self.say(f"chaos: {action.__name__} failed: {type(exc).__name__}: {exc}")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wake(self) -> None:
        venture, role = self.rng.choice(WAKES)
        async with self.db.transaction() as session:
            await agents.wake(session, venture, role, requested_by="chaos-scheduler")
        self.wakeups += 1

    async def _click_approvals(self) -> None:
        async with self.db.sessions() as session:
            pending = (
                await session.execute(
                    select(Approval.id, Approval.channel_id, Approval.message_ts, Run.venture_id)
                    .join(Run, Run.id == Approval.run_id)
                    .where(Approval.status == ApprovalStatus.PENDING, Approval.message_ts.is_not(None))
                )
            ).all()
            slugs = await self._slugs(session)
        now = time.monotonic()
        for approval_id, channel_id, ts, venture_id in pending:
            if now - self._clicked_at.get(approval_id, -1e9) < 6:
                continue  # a person waits a little before clicking again
            self._clicked_at[approval_id] = now
            approvers = APPROVERS[slugs[venture_id]]
            # Sometimes both approvers click at once.
            clickers = list(approvers) if len(approvers) > 1 and self.rng.random() < 0.3 else [self.rng.choice(approvers)]
            for user in clickers:
                self._spawn(self._click(user, channel_id, ts, APPROVE_ACTION, "approve", approval_id))

    async def _click_trail(self) -> None:
        cards = [
            m for m in self.ws.messages("venture-acme") + self.ws.messages("venture-brightbox")
            if not m.is_reply and m.bot_id and TRAIL_ACTION in str(m.blocks)
        ]
        if cards:
            card = self.rng.choice(cards)
            self._spawn(self._click("U0CAROL", card.channel, card.ts, TRAIL_ACTION, "trail", (card.channel, card.ts)))

    async def _click(self, user: str, channel: str, ts: str, action: str, kind: str, about: Any) -> None:
        try:
            if kind == "approve":  # Approve… opens a modal; the person confirms it
                delivery = await approve(self.ws, user, channel, ts, timeout=8.0)
            else:
                delivery = await self.ws.click(user, channel, ts, action)
        except (LookupError, KeyError, ValueError):
            return  # the button is gone: the message was updated meanwhile
        except TimeoutError:
            return  # no modal and no note (Slack refused views.open): the person clicks again later
        if kind == "approve":
            self.approval_clicks += 1
        self.sent.append(Sent(kind, delivery, time.monotonic(), about))

    async def _ask(self) -> None:
        n = len([s for s in self.sent if s.kind == "question"]) + len(self._tasks)
        if self.rng.random() < 0.5:
            where, text = "venture-acme", f"<@{self.ws.bot.id}> what did acme try on pricing? (question {n})"
            user = "U0CAROL"
        else:
            user = "U0DAN"
            where, text = self.ws.dm_with(user).id, f"what failed at brightbox? (question {n})"
        self._spawn(self._question(user, where, text))

    async def _question(self, user: str, where: str, text: str) -> None:
        message = await self.ws.send_message(user, where, text)
        delivery = next((d for d in self.ws.deliveries if d.event_id and d.payload["event"].get("ts") == message.ts), None)
        self.sent.append(Sent("question", delivery, time.monotonic(), message))

    async def _command(self) -> None:
        text = self.rng.choice(["status", "help", "status acme", "approvals", "budget"])
        self._spawn(self._slash(text))

    async def _slash(self, text: str) -> None:
        delivery = await self.ws.slash_command("U0BOB", "venture-acme", "/lumen", text)
        self.sent.append(Sent("command", delivery, time.monotonic(), text))

    # --- chaos ------------------------------------------------------------------------------

    async def _killer(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(*self.options.kill_every))
            for replica in self.replicas:  # the balancer's health check: a live replica is back in
                if replica.alive and replica.url and not any(t for t in self._restarts if not t.done() and t.get_name() == replica.name):
                    self.balancer.add(replica.url)
            alive = [r for r in self.replicas if r.alive and r.url in self.balancer.backends]
            if len(alive) < 2:
                continue  # one replica stays up: someone must be there when Slack delivers
            victim = self.rng.choice(alive)
            self.balancer.remove(victim.url or "")
            await victim.kill()
            self.kills.append((victim.url or "", time.monotonic()))
            self.say(f"chaos: SIGKILL {victim.name}")
            task = asyncio.create_task(self._restart(victim, self.rng.uniform(1.0, 3.0)), name=victim.name)
            self._restarts.add(task)
            task.add_done_callback(self._restarts.discard)

    async def _at(self, when: float, event: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(when)
        self.say(f"chaos: {getattr(event, '__name__', 'event')}")
        await event()

    async def _restart(self, replica: ReplicaProcess, after: float) -> None:
        await asyncio.sleep(after)
        self.balancer.add(await replica.start())

    async def _weather(self) -> None:
        while True:
            for kind in WEATHER:
                await asyncio.sleep(self.options.phase_s)
                self.phases.append(kind)
                self.say(f"chaos: Slack {kind}")
                if kind == "slow":
                    self.ws.slow(1.5)
                elif kind == "500":
                    self.ws.outage(True, status=500, response_urls=True)
                elif kind == "refused":
                    await self.ws.refuse_connections(True)
                else:
                    for method, calls in (("chat.postMessage", 2), ("chat.update", 1), ("chat.postEphemeral", 2), ("conversations.history", 1)):
                        self.ws.rate_limit_window(method, calls=calls, per=1.0)
                await asyncio.sleep(self.options.phase_s)
                await self._calm()

    async def _calm(self) -> None:
        self.ws.slow(0)
        self.ws.outage(False)
        await self.ws.refuse_connections(False)
        for method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "conversations.history"):
            self.ws.rate_limit_window(method, calls=0)

    # --- the end ----------------------------------------------------------------------------

    async def _settle(self) -> float:
        """Keep clicking until every approval is resolved, and wait until nothing is left to do."""
        started = time.monotonic()
        deadline = started + self.options.settle_timeout
        clicking = asyncio.create_task(self._every(0.5, self._click_approvals))
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                if not self._tasks and not await self._left_to_do():
                    await asyncio.sleep(2.0)  # a straggling duplicate, if any, lands now
                    if not await self._left_to_do():
                        return time.monotonic() - started
            return -1.0
        finally:
            clicking.cancel()
            await asyncio.gather(clicking, return_exceptions=True)
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _left_to_do(self) -> dict[str, int]:
        async with self.db.sessions() as session:
            left = {
                "approvals pending": await _count(session, Approval, Approval.status == ApprovalStatus.PENDING),
                "runs active": await _count(session, Run, Run.status.in_(ACTIVE_RUNS)),
                "outbox pending": await _count(session, OutboxMessage, OutboxMessage.status == OutboxStatus.PENDING),
                "reservations unsettled": await _count(session, Spend, Spend.settled.is_(False)),
                "events unhandled": await _count(
                    session, SlackEventReceipt, SlackEventReceipt.handled_at.is_(None), SlackEventReceipt.attempts < MAX_ATTEMPTS
                ),
            }
        return {k: v for k, v in left.items() if v}

    async def _slugs(self, session: Any) -> dict[int, str]:
        return dict((await session.execute(select(Venture.id, Venture.slug))).all())

    def _risky(self, sent: Sent) -> bool:
        """Was the replica that took this delivery killed within RISK_S of its ack?"""
        if sent.delivery is None or not sent.delivery.attempts:
            return False
        backend = sent.delivery.attempts[-1].headers.get(SERVED_BY)
        return any(url == backend and sent.done_at - 1.0 <= when <= sent.done_at + RISK_S for url, when in self.kills)

    async def _report(self, settled: float, elapsed: float) -> Report:
        ws, problems = self.ws, []
        left = await self._left_to_do()
        problems += [f"{n} {what} at the end" for what, n in left.items()]
        async with self.db.sessions() as session:
            rows = list((await session.scalars(select(OutboxMessage))).all())
            runs = Counter((await session.scalars(select(Run.status))).all())
            decisions = list((await session.scalars(select(Decision))).all())
            approvals = list((await session.scalars(select(Approval))).all())
            votes = Counter((await session.scalars(select(ApprovalVote.approval_id))).all())
            spends = list((await session.scalars(select(Spend))).all())
            receipts = list((await session.scalars(select(SlackEventReceipt))).all())

        # Posts: each sent post is in Slack once; nothing is in Slack that was not sent.
        messages = [m for channel in list(ws.channels) for m in ws.messages(channel)]
        keys = Counter(
            (m.metadata or {}).get("event_payload", {}).get("key") for m in messages if (m.metadata or {}).get("event_type") == METADATA_TYPE
        )
        sent_posts = {r.dedupe_key for r in rows if r.method == "chat.postMessage" and r.status == OutboxStatus.SENT}
        twice = {k: n for k, n in keys.items() if n > 1}
        problems += [f"post {k} is in Slack {n} times" for k, n in sorted(twice.items())]
        problems += [f"post {k} is in Slack but its row is not sent" for k in sorted(set(keys) - sent_posts)]
        problems += [f"post {k} was sent but is not in Slack" for k in sorted(sent_posts - set(keys))]
        problems += [f"outbox row {r.dedupe_key} is dead: {r.last_error}" for r in rows if r.status == OutboxStatus.DEAD]
        problems += [f"decision #{d.id} was never posted" for d in decisions if not d.slack_ts]

        # Approvals: resolved once, and their message updated once per update sent.
        for approval in approvals:
            if approval.status == ApprovalStatus.PENDING:
                continue  # counted above
            if votes[approval.id] != 1:
                problems.append(f"approval {approval.id} has {votes[approval.id]} votes")
        updates_sent = Counter((r.result or {}).get("ts") for r in rows if r.method == "chat.update" and r.status == OutboxStatus.SENT)
        updates_seen = Counter(c.params.get("ts") for c in ws.calls_to("chat.update") if c.response and c.response.get("ok"))
        problems += [f"message {ts} updated {updates_seen[ts]} times for {n} updates" for ts, n in updates_sent.items() if updates_seen[ts] != n]

        # Questions: each one Slack delivered is answered once, in its thread.
        questions = [s for s in self.sent if s.kind == "question"]
        delivered = [s for s in questions if s.delivery is not None and any(a.status and 200 <= a.status < 300 for a in s.delivery.attempts)]
        for question in delivered:
            message = question.about
            replies = [m for m in ws.thread(message.channel, message.ts) if m.ts != message.ts and m.user == ws.bot.id]
            if len(replies) != 1:
                problems.append(f"question {message.text[-14:]!r} answered {len(replies)} times")

        # Commands and trail clicks: answered once, unless their replica died just after the ack.
        commands = [s for s in self.sent if s.kind == "command" and s.delivery is not None and s.delivery.ok]
        risky_commands = answered_twice = told_it_failed = 0
        for command in commands:
            token = command.delivery.payload["response_url"].split("/response/", 1)[1]  # type: ignore[union-attr]
            log = ws.response_urls.by_token[token].log
            # Work that met the database down says so, and the command is handled again later.
            failures = len([r for r in log if r.get("text") == command_failed()])
            in_the_ack = sum(1 for a in command.delivery.attempts if a.status == 200 and a.body.strip())  # type: ignore[union-attr]
            replies = len(log) - failures + in_the_ack  # help, and a status from memory, come back in the ack itself
            risky = self._risky(command)
            risky_commands += risky
            answered_twice += replies == 2
            told_it_failed += failures > 0
            if not (1 <= replies <= (2 if risky else 1)):
                where = f"{in_the_ack} in the ack, {len(log)} on its response_url"
                problems.append(f"/lumen {command.about} answered {replies} times ({where}){' (its replica was killed)' if risky else ''}")
        trails = [s for s in self.sent if s.kind == "trail" and s.delivery is not None and s.delivery.ok]
        for card in {s.about for s in trails}:
            clicks = len([s for s in trails if s.about == card])
            replies = len([m for m in ws.thread(*card) if m.ts != card[1]])
            if replies != 1:  # the trail goes in the thread once, however many clicks
                problems.append(f"trail of {card[1]} shown {replies} times for {clicks} clicks")

        unsettled = [s.id for s in spends if not s.settled]
        problems += [f"reservation {i} unsettled" for i in unsettled if "reservations unsettled" not in left]
        slack_calls = Counter(
            "429" if c.status == 429 else "5xx" if c.status >= 500 else "ok" if (c.response or {}).get("ok") else "error"
            for c in ws.calls
        )
        counts = {
            "seconds": round(elapsed),
            "settled_in_s": round(settled),
            "replicas": len(self.replicas),
            "sigkills": len(self.kills),
            "replica_starts": sum(r.starts for r in self.replicas),
            "deliveries_the_balancer_failed": self.balancer.failed,
            "slack_weather": Counter(self.phases),
            "wake_ups": self.wakeups,
            "runs": {status.value: n for status, n in runs.items()},
            "runs_taken_over": None,
            "model_calls": len(self.stub.requests),
            "reservations": len(spends),
            "reservations_booked_as_reserved": len([s for s in spends if s.cost_usd > 0 and s.completion_tokens == 0]),
            "decisions": len(decisions),
            "approvals": Counter(a.status.value for a in approvals),
            "approval_clicks": self.approval_clicks,
            "trail_clicks": len(trails),
            "questions_asked": len(questions),
            "questions_delivered_by_slack": len(delivered),
            "commands_acked": len(commands),
            "commands_whose_replica_was_killed": risky_commands,
            "commands_answered_twice": answered_twice,
            "commands_told_it_failed_then_answered": told_it_failed,
            "outbox_sent": Counter(r.method for r in rows if r.status == OutboxStatus.SENT),
            "outbox_dead": len([r for r in rows if r.status == OutboxStatus.DEAD]),
            "posts_in_slack": sum(keys.values()),
            "events_received": len(receipts),
            "events_replayed_or_retaken": len([r for r in receipts if r.attempts > 1]),
            "slack_calls": dict(slack_calls),
            "problems": len(problems),
        }
        async with self.db.sessions() as session:
            # A gated run is claimed twice (before and after its approval); more is a takeover.
            counts["runs_taken_over"] = await _count(session, Run, Run.attempts > 2)
        # As people see it, by Slack's own timestamps: a question to its answer, a decision to its post.
        figures = {
            "answer_after_question_s": _spread(_answer_delays(ws, delivered)),
            "decision_posted_after_s": _spread([float(d.slack_ts) - d.created_at.timestamp() for d in decisions if d.slack_ts]),
        }
        return Report(counts=counts, problems=problems, figures=figures)


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def _answer_delays(ws: Workspace, questions: list[Sent]) -> list[float]:
    """Seconds from each question to its answer, by Slack's own timestamps."""
    delays = []
    for question in questions:
        message = question.about
        replies = [m for m in ws.thread(message.channel, message.ts) if m.ts != message.ts and m.user == ws.bot.id]
        if replies:
            delays.append(float(replies[0].ts) - float(message.ts))
    return delays


async def _count(session: Any, model: type, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
