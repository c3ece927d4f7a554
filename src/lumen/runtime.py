"""One Lumen replica: prepare the database, then serve Slack over HTTP or Socket Mode.

Every replica is the same program and keeps no state of its own; all of it is
in the database.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from contextlib import suppress

from aiohttp import web

from lumen.config import LumenConfig, Settings, load_config
from lumen.db.migrate import upgrade
from lumen.db.session import Database
from lumen.engine.drain import DEFAULT_GRACE_SECONDS, drain
from lumen.errors import ConfigError
from lumen.log import get_logger
from lumen.services import Services
from lumen.ventures.sync import sync_config

log = get_logger(__name__)


def check_slack_settings(settings: Settings) -> None:
    """Refuse to start with settings that cannot work, and say why."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set. Create the app from manifest.yml, install it, and "
            "export its Bot User OAuth Token (xoxb-…). For a local try without Slack, run `lumen dev`."
        )
    if settings.socket_mode:
        if not settings.slack_app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write.")
        return
    if not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set. In HTTP mode Lumen must verify that every request "
            "comes from Slack; copy the Signing Secret from your app's Basic Information page, "
            "or set SLACK_APP_TOKEN to use Socket Mode instead."
        )


async def prepare(settings: Settings, config: LumenConfig | None = None) -> Services:
    """Load lumen.yml, migrate the database and apply the file to it."""
    config = config or load_config(settings.config_path)
    db = Database(settings.database_url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            report = await sync_config(session, config)
    except BaseException:
        await db.dispose()
        raise
    if report.changed:
        log.info("lumen.config.synced", changes=report.lines())
    return Services(settings=settings, config=config, db=db)


class Replica:
    """One replica's jobs: the HTTP server (health, metrics and, in HTTP mode, Slack),
    Socket Mode if set, the scheduler, the workers and the outbox dispatcher."""

    def __init__(
        self, services: Services, *, background: bool = True, workers: int = 4, sweep_seconds: float = 15
    ) -> None:
        from lumen.engine.outbox import OutboxDispatcher
        from lumen.engine.scheduler import AgentScheduler
        from lumen.engine.worker import Worker
        from lumen.slack.app import build_slack_app
        from lumen.slack.http import build_web_app

        self.services = services
        self.bolt = build_slack_app(services)
        self.web_app = build_web_app(self.bolt, services)
        self.background = background
        self.sweep_seconds = sweep_seconds
        self.gateway = services.gateway
        self.outbox = OutboxDispatcher(services.db, self.bolt.client)
        self.worker = Worker(services, self.gateway, concurrency=workers, on_outbox=self.outbox.notify)
        self.scheduler = AgentScheduler(services.db, on_enqueued=self.worker.notify, config=services.config)
        services.run_queued = self.worker.notify
        services.outbox_queued = self.outbox.notify
        self._outbox_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._socket_mode = None
        self.url: str | None = None

    async def start(self, host: str, port: int) -> str:
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # port 0 picks a free port
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
        if self.services.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket_mode = AsyncSocketModeHandler(
                self.bolt, self.services.settings.slack_app_token
            )
            await self._socket_mode.connect_async()
        await resolve_channels(self.services, self.bolt.client)
        if self.background:
            from lumen.approvals.jobs import sweep
            from lumen.slack.dedupe import prune_receipts

            db, directory = self.services.db, self.services.directory
            self.scheduler.every(self.sweep_seconds, "approvals:sweep", lambda: self._sweep(sweep, db, directory))
            self.scheduler.every(3600, "slack:prune-receipts", lambda: prune_receipts(db))
            await self.scheduler.start()
            self.worker.start()
            self._outbox_task = asyncio.create_task(self.outbox.run_forever(), name="lumen-outbox")
        # Everything loaded so far lives as long as the process: move it out of the collector's
        # sight, so a full collection under load scans only new objects (a 100 ms pause otherwise).
        gc.collect()
        gc.freeze()
        log.info(
            "lumen.replica.started",
            url=self.url,
            mode="socket" if self._socket_mode else "http",
        )
        return self.url

    async def _sweep(self, sweep, db, directory) -> None:  # type: ignore[no-untyped-def]
        report = await sweep(db, directory)
        if report.anything:
            self.outbox.notify()
            self.worker.notify()

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Take no new work, let what is in flight finish within `grace` seconds in all, then close.

        Nothing is lost if the grace runs out: runs are taken over from their journal once
        their lease expires, and queued posts wait in the outbox for the next start.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace

        def left() -> float:
            return max(0.0, deadline - loop.time())

        if self._socket_mode is not None:
            with suppress(Exception):
                await self._socket_mode.close_async()
        if self._runner is not None:
            await self._runner.cleanup()  # listeners return right after their ack
        # One deadline for all: a supervisor's SIGKILL comes a fixed time after its SIGTERM.
        await asyncio.gather(
            self.scheduler.stop(left()), self.worker.stop(left()), self.services.inflight.drain(left())
        )
        if self._outbox_task is not None:
            self.outbox.stop()
            await drain([self._outbox_task], left(), what="outbox")
            if left() > 0:
                # One last pass for the posts the work above queued while the loop was leaving.
                last = asyncio.create_task(self.outbox.dispatch_due(), name="lumen-outbox-last")
                await drain([last], left(), what="outbox")
                if not last.cancelled() and (error := last.exception()) is not None:
                    log.warning("lumen.outbox.last_pass_failed", error=str(error))
        await self.services.close()
        log.info("lumen.replica.stopped")


async def resolve_channels(services: Services, client) -> None:  # type: ignore[no-untyped-def]
    """Learn each venture channel's ID so posts and links use it. Best effort: Slack may be down."""
    from sqlalchemy import select

    from lumen.db.models import Venture

    try:
        ids: dict[str, str] = {}
        async for page in await client.conversations_list(types="public_channel,private_channel", limit=200):
            ids |= {c["name"]: c["id"] for c in page.get("channels", [])}
    except Exception as exc:
        log.warning("lumen.slack.channels_unresolved", error=str(exc))
        return
    async with services.db.transaction() as session:
        for venture in await session.scalars(select(Venture).where(Venture.archived_at.is_(None))):
            channel_id = ids.get(venture.channel)
            if channel_id and venture.channel_id != channel_id:
                venture.channel_id = channel_id
            elif not channel_id:
                log.warning("lumen.slack.channel_missing", venture=venture.slug, channel=venture.channel)


async def wait_for_shutdown() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(settings: Settings) -> None:
    check_slack_settings(settings)
    services = await prepare(settings)
    replica = Replica(services)
    try:
        await replica.start(settings.host, settings.port)
        await wait_for_shutdown()
    finally:
        await replica.stop()
        await services.db.dispose()
