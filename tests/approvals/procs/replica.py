"""One Lumen replica in an OS process of its own, for the two-replica approval test.

    python -m tests.approvals.procs.replica

Everything comes from the environment, as for `lumen serve`: LUMEN_DATABASE_URL,
LUMEN_CONFIG, SLACK_API_URL (the dev workspace), SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET.
Serves HTTP on a free port and runs the workers, the outbox and the sweep; prints one
JSON line `{"url": …, "pid": …}` when ready; stops when stdin closes. JSON logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from lumen.settings import Settings
from lumen.log import configure_logging
from lumen.runtime import Replica, prepare


async def main() -> None:
    settings = Settings()
    container = await prepare(settings)
    replica = Replica(container, workers=int(os.environ.get("LUMEN_TEST_WORKERS", "4")))
    try:
        url = await replica.start("127.0.0.1", 0)
        print(json.dumps({"url": url, "pid": os.getpid()}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the test closes stdin
    finally:
        await replica.stop()
        await container.db.dispose()


if __name__ == "__main__":
    configure_logging("info", "json")
    asyncio.run(main())
