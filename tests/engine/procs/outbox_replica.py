"""One replica's outbox dispatcher in a process of its own, for the two-dispatcher tests.

    python -m tests.engine.procs.outbox_replica DB_URL SLACK_API_URL CLAIM_SECONDS

Runs the real dispatcher (as `lumen serve` builds it) against the dev workspace at
SLACK_API_URL with the bot token `xoxb-dev-token`, hiding a claimed row for CLAIM_SECONDS
(a minute in production; shorter here so the test does not wait a minute). Prints `ready`,
and stops when stdin closes.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from lumen.db.session import Database
from lumen.engine import outbox
from lumen.engine.outbox import OutboxDispatcher
from lumen.log import configure_logging
from slack_sdk.web.async_client import AsyncWebClient


async def main(url: str, api_url: str, claim_s: float) -> None:
    outbox.CLAIM_TIMEOUT = timedelta(seconds=claim_s)
    db = Database(url)
    dispatcher = OutboxDispatcher(db, AsyncWebClient(token="xoxb-dev-token", base_url=api_url), poll_interval=0.05)
    task = asyncio.create_task(dispatcher.run_forever())
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    dispatcher.stop()
    await asyncio.wait_for(task, 30)
    await db.dispose()


if __name__ == "__main__":
    configure_logging("info", "json")
    url, api_url, claim_s = sys.argv[1:4]
    asyncio.run(main(url, api_url, float(claim_s)))
