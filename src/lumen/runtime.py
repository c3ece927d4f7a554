"""The composition root: builds the container, registers run handlers and schedule sources,
and runs one replica (HTTP or Socket Mode, scheduler, workers, outbox).

Every replica is the same program and keeps no state of its own; all of it is in the
database. This is the one module that knows every part: the engine runs handlers it never
imports, and features never see the Slack client.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from contextlib import suppress
from datetime import timedelta
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from lumen import api
from lumen.agents import service as agents
from lumen.agents.context import FULL, Memory
from lumen.agents.wakeup import WakeUpHandler
from lumen.approvals import questions
from lumen.approvals import service as approvals
from lumen.approvals.tasks import sweep
from lumen.brain import service as brain
from lumen.brain.platform import PlatformSynthesisHandler
from lumen.brain.synthesis import SynthesisHandler
from lumen.config import load_config
from lumen.container import Container
from lumen.costs.alerts import BudgetAnnouncer
from lumen.db.migrate import upgrade
from lumen.db.models import RunKind
from lumen.db.session import Database
from lumen.domain.budgets import Limits
from lumen.domain.config import LumenConfig
from lumen.domain.directory import Directory
from lumen.engine import inbox
from lumen.engine.drain import DEFAULT_GRACE_SECONDS, OUTBOX_SHARE, drain
from lumen.engine.handlers import Handlers
from lumen.engine.outbox import OutboxDispatcher
from lumen.engine.scheduler import Schedule, Scheduler
from lumen.engine.worker import Worker
from lumen.errors import ConfigError
from lumen.llm import Gateway
from lumen.log import get_logger
from lumen.settings import Settings
from lumen.slack.app import SLACK_PATH, build_slack_app, web_client
from lumen.slack.directory import SlackDirectory
from lumen.slack.http import slack_web_app
from lumen.slack.identity import BotIdentity
from lumen.slack.middleware import replay_abandoned
from lumen.ventures.service import learn_channel_ids
from lumen.ventures.sync import sync_config

log = get_logger(__name__)


def check_slack_settings(settings: Settings) -> None:
    """Refuse to start with settings that cannot work, and say why."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set. Create the app from manifest.yml, install it, and "
            "export its Bot User OAuth Token (xoxb-…). For a local try without Slack, run `lumen dev`."
        )
    if settings.socket_mode and settings.slack_app_token:
        if not settings.slack_app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write.")
        return
    if not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set. In HTTP mode Lumen must verify that every request "
            "comes from Slack; copy the Signing Secret from your app's Basic Information page, "
            "or set SLACK_APP_TOKEN to use Socket Mode instead."
        )


# --- building the parts ----------------------------------------------------------------------


def build_container(
    settings: Settings,
    config: LumenConfig,
    db: Database,
    *,
    directory: Directory | None = None,
    gateway: Gateway | None = None,
) -> Container:
    if directory is None:
        # Without a token there is nobody to ask: group and channel approvers resolve to nobody.
        directory = SlackDirectory(web_client(settings) if settings.slack_bot_token else None)
    return Container(
        settings=settings,
        config=config,
        db=db,
        gateway=gateway or Gateway.from_settings(settings, db, platform_budget=platform_budget(config), alerts=budget_alerts(config, settings.offline_simulated_prices)),
        directory=directory,
    )


def platform_budget(config: LumenConfig) -> Limits:
    workspace = config.workspace
    return Limits(workspace.budget_usd_month, workspace.budget_usd_day)


def budget_alerts(config: LumenConfig, simulated_prices: bool = False) -> BudgetAnnouncer:
    return BudgetAnnouncer(config.workspace.platform_channel, simulated_prices=simulated_prices)


def run_handlers(c: Container, gateway: Gateway | None = None, memory: Memory = FULL) -> Handlers:
    """What each kind of run does: the engine calls these by kind, never importing them.

    `memory` is what agents are shown of the past; only the flywheel benchmark narrows it."""
    gateway = gateway or c.gateway
    return Handlers(
        {
            RunKind.WAKE: WakeUpHandler(c.db, gateway, c.config, context_tokens=c.settings.context_tokens, memory=memory),
            RunKind.SYNTHESIS: SynthesisHandler(c.db, gateway, routing=c.config.workspace.routing),
            RunKind.PLATFORM_SYNTHESIS: PlatformSynthesisHandler(c.db, gateway, c.config),
        },
        # A run that ends well wakes the agents that follow it (`triggers.after`), in the same transaction.
        ended=[agents.chain_after(agents.limits_from(c.settings))],
    )


def make_worker(c: Container, *, gateway: Gateway | None = None, memory: Memory = FULL, **options: Any) -> Worker:
    return Worker(c.db, run_handlers(c, gateway, memory), c.signals, **options)


def make_scheduler(c: Container) -> Scheduler:
    limits = agents.limits_from(c.settings)

    async def wake_schedules(session: AsyncSession) -> Sequence[Schedule]:
        return await agents.wake_schedules(session, limits)

    return Scheduler(c.db, [wake_schedules, brain.synthesis_schedules(c.config)], enqueued=c.signals.runs)


def make_outbox(c: Container, client: AsyncWebClient, **options: Any) -> OutboxDispatcher:
    # Features that remember where their messages landed (a decision's permalink, an approval's ts).
    delivered = [agents.on_post_delivered, approvals.on_post_delivered, questions.on_post_delivered, brain.on_chart_delivered]
    return OutboxDispatcher(c.db, client, queued=c.signals.outbox, delivered=delivered, **options)


async def prepare(settings: Settings, config: LumenConfig | None = None) -> Container:
    """Load lumen.yml, migrate the database, apply the file to it, and build the container."""
    config = config or load_config(settings.config_path)
    db = await Database.open(settings.database_url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            report = await sync_config(session, config)
    except BaseException:
        await db.dispose()
        raise
    if report.changed:
        log.info("lumen.config.synced", changes=report.lines())
    if report.kept:
        log.warning("lumen.config.kept", ventures=report.kept, why="lumen.yml lists no ventures; `lumen sync --prune` archives them")
    return build_container(settings, config, db)


async def run_now(c: Container, run_id: int, gateway: Gateway | None = None) -> Any:
    """Claim one queued run and run it in this process (the CLI, the demo seed)."""
    return await make_worker(c, gateway=gateway).run_one(run_id)


# --- one replica -------------------------------------------------------------------------------


class Replica:
    """One replica's jobs: the HTTP server (health, metrics and, in HTTP mode, Slack),
    Socket Mode if set, the scheduler, the workers and the outbox dispatcher."""

    def __init__(self, c: Container, *, background: bool = True, workers: int = 4, sweep_seconds: float = 15) -> None:
        self.container = c
        self.client = web_client(c.settings)
        self.identity = BotIdentity(self.client)
        self.bolt = build_slack_app(c, self.client, self.identity)
        self.web_app = slack_web_app(self.bolt, c.settings.slack_signing_secret or "", SLACK_PATH, c.db)
        api.add_routes(self.web_app, c, slack=self.identity.check)
        self.background = background
        self.sweep_seconds = sweep_seconds
        self.outbox = make_outbox(c, self.client)
        self.worker = make_worker(c, concurrency=workers)
        self.scheduler = make_scheduler(c)
        self.learn_channels = ChannelLearner(c, self.client)
        self._outbox_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._socket_mode: Any = None
        self.url: str | None = None

    async def start(self, host: str, port: int) -> str:
        c = self.container
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # port 0 picks a free port
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
        if c.settings.socket_mode and c.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket_mode = AsyncSocketModeHandler(self.bolt, c.settings.slack_app_token)
            await self._socket_mode.connect_async()
        self.identity.learn()  # who the bot is, in the background: a request never waits for it
        await self.learn_channels()
        if self.background:
            self.scheduler.every(1, "slack:learn-channels", self.learn_channels)
            self.scheduler.every(self.sweep_seconds, "approvals:sweep", self._sweep)
            self.scheduler.every(3600, "slack:prune-receipts", self._prune_receipts)
            self.scheduler.every(self.sweep_seconds, "slack:replay-events", self._replay_events)
            self.scheduler.every(self.sweep_seconds, "llm:settle-abandoned", self._settle_abandoned)
            await self.scheduler.start()
            self.worker.start()
            self._outbox_task = asyncio.create_task(self.outbox.run_forever(), name="lumen-outbox")
        # Everything loaded so far lives as long as the process: move it out of the collector's
        # sight, so a full collection under load scans only new objects (a 100 ms pause otherwise).
        gc.collect()
        gc.freeze()
        log.info("lumen.replica.started", url=self.url, mode="socket" if self._socket_mode else "http")
        return self.url

    async def _sweep(self) -> None:
        report = await sweep(self.container.db, self.container.directory)
        if report.anything:
            self.container.signals.outbox.notify()
            self.container.signals.runs.notify()

    async def _settle_abandoned(self) -> None:
        # A call outside a run lasts at most its timeout (and a fallback's): then its reservation is abandoned.
        runless_after = timedelta(seconds=2 * self.container.settings.llm_timeout_s + 10)
        await self.container.gateway.ledger.settle_abandoned(runless_after)

    async def _replay_events(self) -> None:
        await replay_abandoned(self.bolt, self.container.db)

    async def _prune_receipts(self) -> None:
        async with self.container.db.transaction() as session:
            await inbox.prune(session)

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Take no new work, let what is in flight finish within `grace` seconds in all, then close.

        Nothing is lost if the grace runs out: runs are taken over from their journal once
        their lease expires, and queued posts wait in the outbox for the next start.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        work_deadline = deadline - grace * OUTBOX_SHARE

        def left(until: float = deadline) -> float:
            return max(0.0, until - loop.time())

        self.outbox.finish_by(deadline)
        if self._socket_mode is not None:
            with suppress(Exception):
                await self._socket_mode.close_async()
        if self._runner is not None:
            await self._runner.cleanup()  # listeners return right after their ack
        # One deadline for all: a supervisor's SIGKILL comes a fixed time after its SIGTERM.
        # Runs and listener work end a share of it early, so that the outbox has its turn.
        work = left(work_deadline)
        await asyncio.gather(self.scheduler.stop(work), self.worker.stop(work), self.container.inflight.drain(work))
        if self._outbox_task is not None:
            self.outbox.stop()
            await drain([self._outbox_task], left(), what="outbox")
            if left() > 0:
                # One last pass for the posts the work above queued while the loop was leaving.
                last = asyncio.create_task(self.outbox.dispatch_due(), name="lumen-outbox-last")
                await drain([last], left(), what="outbox")
                if not last.cancelled() and (error := last.exception()) is not None:
                    log.warning("lumen.outbox.last_pass_failed", error=str(error))
        await self.container.close()
        log.info("lumen.replica.stopped")


async def resolve_channels(c: Container, client: AsyncWebClient) -> list[str] | None:
    """Learn each venture channel's ID so posts and links use it. Best effort: Slack may be down.

    Returns the ventures whose channel Slack does not know, or None if Slack could not be asked.
    """
    try:
        ids: dict[str, str] = {}
        async for page in await client.conversations_list(types="public_channel,private_channel", limit=200):
            ids |= {channel["name"]: channel["id"] for channel in page.get("channels", [])}
    except Exception as exc:
        log.warning("lumen.slack.channels_unresolved", error=str(exc))
        return None
    async with c.db.transaction() as session:
        missing = await learn_channel_ids(session, ids)
    for slug in missing:
        log.warning("lumen.slack.channel_missing", venture=slug)
    return missing


class ChannelLearner:
    """Asks Slack for the channel IDs until it has them: at start, then again while Slack
    could not be asked (2 s, 4 s, … up to a minute apart) or some channel was not found
    (every 10 minutes), so that a replica started during an outage does not post by name for ever."""

    def __init__(self, c: Container, client: AsyncWebClient) -> None:
        self.c, self.client = c, client
        self._next_at = 0.0
        self._delay = 1.0
        self.done = False

    async def __call__(self) -> None:
        if self.done or time.monotonic() < self._next_at:
            return
        missing = await resolve_channels(self.c, self.client)
        if missing is None:
            self._delay = min(60.0, self._delay * 2)
            self._next_at = time.monotonic() + self._delay
        elif missing:
            self._next_at = time.monotonic() + 600
        else:
            self.done = True


async def wait_for_shutdown() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(settings: Settings) -> None:
    check_slack_settings(settings)
    c = await prepare(settings)
    replica = Replica(c)
    try:
        await replica.start(settings.host, settings.port)
        await wait_for_shutdown()
    finally:
        await replica.stop()
        await c.db.dispose()
