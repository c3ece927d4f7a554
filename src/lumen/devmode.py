"""`lumen dev`: Lumen wired to the dev workspace and the offline model.

The same wiring serves the tests, so what a newcomer sees in the browser is
what the suite exercises: real HTTP (or Socket Mode) between two servers, with
signed requests, and nothing mocked.

The dev workspace is a distribution of its own (`src/devslack`, the `dev` extra): a
production install has none, and `lumen dev` then says how to get it.

Both halves keep their state in `.lumen/` of the folder it runs in: the database
(`dev.db`) and the workspace (`workspace.json`: channels with their IDs, messages,
users), so a restart finds every message where it was and can still update it.
`lumen dev --fresh` starts over. The `lumen` command, run in the same folder, reads the
same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from lumen.config import load_config, parse_config
from lumen.container import Container
from lumen.demo import SMALL_ENVELOPE, is_empty, seed_history, spend_the_small_envelope, wake_everyone
from lumen.domain.config import LumenConfig
from lumen.errors import ConfigError
from lumen.llm.offline_prices import SIMULATED_NOTE
from lumen.log import get_logger
from lumen.runtime import Replica, prepare, wait_for_shutdown
from lumen.settings import Settings

if TYPE_CHECKING:
    from devslack import Workspace

log = get_logger(__name__)

DEV_DIR = Path(".lumen")
DEV_DATABASE = DEV_DIR / "dev.db"
DEV_WORKSPACE = DEV_DIR / "workspace.json"
NO_DEVSLACK = (
    "`lumen dev` needs the dev workspace, which production installs leave out. From a checkout, "
    "run ./scripts/dev (it installs everything), or: pip install -e src/devslack -e \".[dev]\""
)


def devslack() -> Any:
    """The dev workspace package, or a ConfigError that says how to install it."""
    try:
        import devslack as module
    except ImportError:
        raise ConfigError(NO_DEVSLACK) from None
    return module


def dev_database_url() -> str:
    return f"sqlite+aiosqlite:///{DEV_DATABASE}"


def is_dev_database(settings: Settings) -> bool:
    return settings.database_url == dev_database_url()


def start_over(settings: Settings) -> list[Path]:
    """`--fresh`: forget what earlier runs kept. Only lumen dev's own files, never a database
    the operator chose."""
    if settings.chose("database_url") and not is_dev_database(settings):
        raise ConfigError(
            "--fresh forgets lumen dev's own database (.lumen/dev.db) and workspace, but "
            "LUMEN_DATABASE_URL points at another database, which it will not touch. "
            "Unset LUMEN_DATABASE_URL, or empty that database yourself."
        )
    removed = []
    for path in (DEV_DATABASE, DEV_DATABASE.with_name("dev.db-wal"), DEV_DATABASE.with_name("dev.db-shm"), DEV_WORKSPACE):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def demo_config() -> LumenConfig:
    """The example lumen.yml, with the demo's small envelopes (demo.SMALL_ENVELOPE): one
    agent's day, so that a first start shows a budget warning and a stop, and its venture's
    month, on the scale of the offline model's simulated prices."""
    text = files("lumen").joinpath("templates/lumen.example.yml").read_text(encoding="utf-8")
    config = parse_config(text, source="lumen dev's demo lumen.yml")
    small = SMALL_ENVELOPE
    ventures = tuple(
        v.model_copy(update={"budget_usd_month": small.venture_budget_usd_month if v.slug == small.venture else v.budget_usd_month, "agents": tuple(
            a.model_copy(update={"budget_usd_day": small.budget_usd_day}) if v.slug == small.venture and a.role == small.role else a
            for a in v.agents
        )})
        for v in config.ventures
    )
    return config.model_copy(update={"ventures": ventures})


def dev_config(settings: Settings) -> tuple[LumenConfig, str]:
    """The operator's lumen.yml if there is one, else the bundled demo."""
    if settings.chose("config_path") or settings.config_path.exists():
        return load_config(settings.config_path), str(settings.config_path)
    return demo_config(), "the bundled demo (write your own with `lumen init`)"


@dataclass
class DevStack:
    workspace: Workspace
    workspace_url: str
    replica: Replica
    app_url: str

    @property
    def container(self) -> Container:
        return self.replica.container


@asynccontextmanager
async def dev_stack(
    settings: Settings,
    config: LumenConfig,
    *,
    workspace: Workspace | None = None,
    workspace_port: int = 0,
    app_port: int = 0,
    socket_mode: bool = False,
    demo: bool = False,
) -> AsyncIterator[DevStack]:
    """Start the dev workspace and a Lumen replica that talks to it; stop both after."""
    slack = devslack()
    workspace = workspace or slack.Workspace.demo()
    workspace.timezone = config.workspace.timezone  # the page shows times in Lumen's zone
    ws_runner: web.AppRunner | None = None
    replica: Replica | None = None
    try:
        ws_runner, ws_url = await slack.start(workspace, "127.0.0.1", workspace_port)
        for venture in config.ventures:
            workspace.ensure_channel(venture.channel, is_private=venture.private)
        workspace.ensure_channel(config.workspace.platform_channel)
        settings = settings.model_copy(
            update={
                "slack_bot_token": workspace.bot_token,
                "slack_signing_secret": workspace.signing_secret,
                "slack_app_token": workspace.app_token if socket_mode else None,
                "slack_api_url": f"{ws_url}/api/",
            }
        )
        c = await prepare(settings, config)
        replica = Replica(c)
        seeded = demo and await is_empty(c)
        if seeded:
            # Before the workers start, so the weeks run in order, by this task alone.
            log.info("lumen.demo.seeding", note="first start: two quarters of demo history, a few seconds")
            await seed_history(c)
            await spend_the_small_envelope(c)
        app_url = await replica.start("127.0.0.1", app_port)
        workspace.request_url = None if socket_mode else f"{app_url}/slack/events"
        if socket_mode:
            await workspace.wait_for(lambda: workspace.socket_hub.connected, timeout=10)
        if seeded:
            await wake_everyone(c)
        yield DevStack(workspace=workspace, workspace_url=ws_url, replica=replica, app_url=app_url)
    finally:
        if replica is not None:
            await replica.stop()
            await replica.container.db.dispose()
        if ws_runner is not None:
            await workspace.settle()
            await ws_runner.cleanup()


async def run_dev(
    settings: Settings,
    *,
    workspace_port: int | None = None,
    socket_mode: bool = False,
    demo: bool = True,
    fresh: bool = False,
) -> None:
    slack = devslack()  # before anything is written: say how to install it, or go on
    if fresh:
        for path in start_over(settings):
            print(f"  --fresh: removed {path}", flush=True)
    if not settings.chose("database_url"):
        DEV_DIR.mkdir(exist_ok=True)
        settings = settings.model_copy(update={"database_url": dev_database_url()})
    if not settings.chose("offline_simulated_prices"):
        # The demo's costs show: the offline model charges its simulated price table.
        settings = settings.model_copy(update={"offline_simulated_prices": True})
    config, source = dev_config(settings)
    workspace = slack.Workspace.demo()
    # As the manifest asks: replies in a decision's thread reach its agent.
    workspace.event_subscriptions |= {"message.channels", "message.groups"}
    try:
        kept = workspace.persist(DEV_WORKSPACE)
    except slack.persistence.UnreadableWorkspace as exc:
        raise ConfigError(f"{DEV_WORKSPACE}: {exc}. Start over with `lumen dev --fresh`.") from None
    async with dev_stack(
        settings,
        config,
        workspace=workspace,
        workspace_port=workspace_port or settings.port + 1,
        app_port=settings.port,
        socket_mode=socket_mode,
        demo=demo,
    ) as stack:
        channel = config.ventures[0].channel if config.ventures else "general"
        simulated = settings.offline_simulated_prices
        prices = f"  prices:    the {SIMULATED_NOTE}; see /lumen costs\n" if simulated else ""
        # Listen for Ctrl-C before saying it stops us: a quick Ctrl-C still stops gracefully.
        stopping = asyncio.ensure_future(wait_for_shutdown())
        await asyncio.sleep(0)
        print(
            "\n  Lumen is running with a local dev workspace and the offline model.\n"
            f"  Open {stack.workspace_url}/ and type /lumen status in #{channel}.\n\n"
            f"  app:       {stack.app_url}/slack/events ({'Socket Mode' if socket_mode else 'HTTP'})\n"
            f"  ventures:  {source}\n"
            f"  database:  {settings.database_url}\n"
            f"{prices}"
            f"  workspace: {DEV_WORKSPACE} ({'kept from the last run' if kept else 'new'}; "
            "`lumen dev --fresh` starts over)\n"
            "  In another terminal in this folder, `lumen status`, `lumen runs list` … read the same database.\n"
            "  Ctrl-C stops it.\n",
            flush=True,
        )
        await stopping
