"""/healthz, /readyz (database reachable or not) and /metrics on a running replica."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from lumen.devmode import DevStack


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def take_database_away(stack: DevStack) -> None:
    """Make the replica's database unreachable, the way an outage would."""
    db = stack.container.db
    url = make_url(db.url)
    if db.dialect == "postgresql":
        admin = await asyncpg.connect(
            url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        )
        try:
            await admin.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        finally:
            await admin.close()
    else:
        await db.dispose()
        path = Path(url.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.mkdir()  # a directory where the file was: SQLite cannot open it


async def test_health_readiness_and_metrics(stack: DevStack) -> None:
    status, ctype, body = await get(f"{stack.app_url}/healthz")
    assert status == 200 and ctype.startswith("application/json") and '"ok": true' in body

    status, _, body = await get(f"{stack.app_url}/readyz")
    assert status == 200 and "reachable" in body

    await stack.workspace.slash_command("U0ALICE", "venture-acme", "/lumen", "help")
    status, ctype, body = await get(f"{stack.app_url}/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert "# TYPE lumen_http_request_seconds histogram" in body
    assert 'lumen_http_request_seconds_count{path="/slack/events"}' in body

    await take_database_away(stack)
    status, _, body = await get(f"{stack.app_url}/readyz")
    assert status == 503 and "unreachable" in body
    status, _, _ = await get(f"{stack.app_url}/healthz")
    assert status == 200  # alive, just not ready
