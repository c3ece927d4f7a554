"""One Lumen replica in an OS process of its own, as `lumen serve` runs it, for the tests that
kill, restart or starve replicas (event retries, model calls cut off, chaos, a Postgres restart).

    python -m tests.support.replica_process

Everything comes from the environment, as for `lumen serve`. Test-only knobs:
  LUMEN_TEST_WORKERS        workers (default 4)
  LUMEN_TEST_QUICK=1        short leases and sweeps, so a test sees a takeover in seconds
  LUMEN_TEST_DIE_ON_EVENT   exit at once (as SIGKILL would) on the first event of this type,
                            after the inbox has taken it and before it is acked
  LUMEN_TEST_DIE_BEFORE_REPLY=1  exit at once when the first slash command, acked and recorded,
                            is about to send its reply
  LUMEN_TEST_PRICED_MODEL   `model:input_per_token:output_per_token`, registered with litellm
Prints one JSON line `{"url": …, "pid": …}` when ready; stops on SIGTERM or when stdin closes.
JSON logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from contextlib import suppress
from datetime import timedelta
from typing import Any

from lumen.log import configure_logging
from lumen.runtime import Replica, prepare
from lumen.settings import Settings


def quick_timings(replica: Replica) -> None:
    """Leases and sweeps of a few seconds instead of tens."""
    from lumen.engine import inbox, outbox

    replica.worker.lease = timedelta(seconds=2)
    outbox.CLAIM_TIMEOUT = timedelta(seconds=10)
    inbox.CLAIM_LEASE = timedelta(seconds=2)
    replica.sweep_seconds = 0.5


def die_on(event_type: str) -> Any:
    """Exit at once on the first event of this type."""

    async def middleware(body: dict[str, Any], next: Any) -> None:
        if body.get("type") == "event_callback" and body.get("event", {}).get("type") == event_type:
            print(json.dumps({"dying_on": body.get("event_id")}), file=sys.stderr, flush=True)
            os._exit(9)
        await next()

    return middleware


def die_before_reply(replica: Replica) -> None:
    """The first command's reply is never sent: the process dies once the command is recorded."""
    from sqlalchemy import select

    from lumen.db.models import SlackEventReceipt
    from lumen.slack.listeners import commands

    async def dying(c: Any, response_url: str, message: dict[str, Any], *, key: str) -> None:
        trigger = key.split(":")[1]
        for _ in range(200):
            async with replica.container.db.sessions() as session:
                if await session.scalar(select(SlackEventReceipt.event_id).where(SlackEventReceipt.event_id == f"trigger:{trigger}"[:64])):
                    break
            await asyncio.sleep(0.02)
        print(json.dumps({"dying_before_reply": trigger}), file=sys.stderr, flush=True)
        os._exit(9)

    commands.respond_on = dying  # type: ignore[assignment]


def register_price(spec: str) -> None:
    from lumen.llm._litellm import litellm

    model, price_in, price_out = spec.rsplit(":", 2)
    litellm().register_model(
        {model: {"input_cost_per_token": float(price_in), "output_cost_per_token": float(price_out), "litellm_provider": "openai", "mode": "chat"}}
    )


async def main() -> None:
    settings = Settings()
    if os.environ.get("LUMEN_TEST_PRICED_MODEL"):
        register_price(os.environ["LUMEN_TEST_PRICED_MODEL"])
    container = await prepare(settings)
    replica = Replica(container, workers=int(os.environ.get("LUMEN_TEST_WORKERS", "4")))
    if os.environ.get("LUMEN_TEST_QUICK"):
        quick_timings(replica)
    if os.environ.get("LUMEN_TEST_DIE_ON_EVENT"):
        replica.bolt.use(die_on(os.environ["LUMEN_TEST_DIE_ON_EVENT"]))
    if os.environ.get("LUMEN_TEST_DIE_BEFORE_REPLY"):
        die_before_reply(replica)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    stdin_closed.add_done_callback(lambda _: loop.call_soon_threadsafe(stop.set))
    try:
        url = await replica.start("127.0.0.1", 0)
        print(json.dumps({"url": url, "pid": os.getpid()}), flush=True)
        await stop.wait()
    finally:
        await replica.stop()
        await container.db.dispose()
    with suppress(Exception):
        os._exit(0)  # the stdin reader thread would otherwise keep the process alive


if __name__ == "__main__":
    configure_logging("info", "json")
    asyncio.run(main())
