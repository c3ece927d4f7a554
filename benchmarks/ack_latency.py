"""How fast Lumen acks `/lumen status`, against a bare Bolt app doing nothing but ack.

Each app runs alone in a process of its own, as it would in production, on aiohttp behind the
same signing secret. This process plays Slack: the dev workspace sends the same signed slash
commands to both (its real delivery code, over real HTTP) and receives Lumen's answers on the
response_url. The time measured is server side: an aiohttp middleware, put in front of every
other middleware before the server starts, records perf_counter from the request entering the
app to the response leaving it; the samples are fetched from the server afterwards. Lumen is the
real Replica (scheduler, workers, outbox and all) on SQLite with the demo lumen.yml.

    python benchmarks/ack_latency.py [--requests 300] [--warmup 30] [--levels 1,50] [--gc-freeze]

--gc-freeze moves everything alive after start-up into the permanent GC generation (gc.freeze())
before measuring, for both apps: it shows what that one-line change to the replica would buy, as
full collections of the start-up heap are what the worst Lumen acks wait for at 50 clients.

A third server is bare Bolt with `process_before_response=True`, as Lumen runs: Bolt then
answers when the listener returns rather than polling every 10 ms for a listener task's ack,
which is most of the default app's time. Lumen is compared with both.

Prints one JSON object. Targets: Lumen's p99 within 1.5x bare Bolt's and under 50 ms at every
level; `lumen --help` under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LUMEN_LOG_LEVEL", "warning")

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

import lumen.devmode as devmode  # noqa: E402
from lumen.settings import Settings  # noqa: E402
from devslack import Workspace  # noqa: E402

TARGET_P99_RATIO = 1.5
TARGET_P99_MS = 50.0
TARGET_HELP_SECONDS = 0.5
CHANNEL, USER = "venture-acme", "U0ALICE"


class Timings:
    """A middleware that records how long each request to /slack/events spends in the app."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            if request.path == "/slack/events":
                self.samples.append(time.perf_counter() - started)

    def install(self, app: web.Application) -> None:
        app.middlewares.insert(0, self.middleware)

        async def samples(_: web.Request) -> web.Response:
            taken, self.samples = self.samples, []
            return web.json_response(taken)

        app.router.add_get("/bench/samples", samples)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        # nearest-rank: the smallest sample with at least q of all samples at or below it
        index = max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))
        return round(ordered[index] * 1000, 3)

    return {
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": round(ordered[-1] * 1000, 3),
        "n": len(ordered),
    }


async def load(ws: Workspace, server: str, *, total: int, concurrency: int) -> tuple[list[float], list[float]]:
    """Send `total` signed `/lumen status` commands, `concurrency` at a time.

    Returns the server times and the round trips seen by this process (signing, the queue in
    front of the server's event loop, and the HTTP exchange included).
    """
    await fetch_samples(server)  # drop anything earlier
    remaining = total
    failures: list[Any] = []
    round_trips: list[float] = []

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            delivery = await ws.slash_command(USER, CHANNEL, "/lumen", "status")
            round_trips.append(time.perf_counter() - started)
            if delivery.status != 200 or delivery.body:
                failures.append((delivery.status, delivery.body, delivery.error))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    if failures:
        raise RuntimeError(f"{len(failures)} commands not acked empty with 200: {failures[:3]}")
    samples = await fetch_samples(server)
    if len(samples) != total:
        raise RuntimeError(f"measured {len(samples)} requests, sent {total}")
    return samples, round_trips


async def fetch_samples(server: str) -> list[float]:
    async with aiohttp.ClientSession() as http, http.get(f"{server}/bench/samples") as response:
        return list(await response.json())


def answered(ws: Workspace) -> int:
    return sum(len(ru.log) for ru in ws.response_urls.by_token.values())


async def measure(
    ws: Workspace, server: str, levels: list[int], requests: int, warmup: int, expect_answers: bool
) -> dict[str, Any]:
    ws.request_url = f"{server}/slack/events"
    out: dict[str, Any] = {}
    for level in levels:
        before = answered(ws)
        await load(ws, server, total=warmup, concurrency=level)
        samples, round_trips = await load(ws, server, total=requests, concurrency=level)
        if expect_answers:  # every command was really answered, and nothing is still running
            await ws.wait_for(lambda b=before: answered(ws) - b >= warmup + requests, timeout=60)
        out[f"c{level}"] = percentiles(samples)
        out[f"c{level}_round_trip"] = percentiles(round_trips)
    return out


async def serve(kind: str, api_url: str, workdir: str, gc_freeze: bool) -> None:
    """The server side, in its own process: print its URL, serve until stdin closes."""
    import logging

    logging.getLogger("lumen.bolt").setLevel(logging.WARNING)
    timings = Timings()
    ws = Workspace()  # only for the default tokens and signing secret
    if kind == "lumen":
        from lumen.runtime import Replica, prepare

        settings = Settings(
            SLACK_BOT_TOKEN=ws.bot_token,
            SLACK_SIGNING_SECRET=ws.signing_secret,
            SLACK_API_URL=api_url,
            LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{Path(workdir) / 'lumen.db'}",
            LUMEN_CONFIG=str(Path(workdir) / "lumen.yml"),
            LUMEN_LOG_LEVEL="warning",
        )
        container = await prepare(settings, devmode.demo_config())
        replica = Replica(container)
        timings.install(replica.web_app)
        url = await replica.start("127.0.0.1", 0)
        stop: Callable[[], Awaitable[None]] = replica.stop
    else:
        app = AsyncApp(
            client=AsyncWebClient(token=ws.bot_token, base_url=api_url),
            signing_secret=ws.signing_secret,
            process_before_response=kind == "bare-inline",
        )

        @app.command("/lumen")
        async def _noop(ack: AsyncAck) -> None:
            await ack()

        web_app = app.web_app(path="/slack/events")
        timings.install(web_app)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        stop = runner.cleanup
    if gc_freeze:
        gc.collect()
        gc.freeze()
    print(f"READY {url}", file=sys.__stdout__, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await stop()


@contextlib.asynccontextmanager
async def server_process(kind: str, api_url: str, workdir: str, gc_freeze: bool):  # type: ignore[no-untyped-def]
    command = [sys.executable, __file__, "--serve", kind, "--api-url", api_url, "--workdir", workdir]
    if gc_freeze:
        command.append("--gc-freeze")
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()  # type: ignore[union-attr]
        if not line.startswith("READY "):
            raise RuntimeError(f"{kind} server did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()


def help_seconds(runs: int = 5) -> float:
    lumen = shutil.which("lumen", path=str(Path(sys.executable).parent))
    command = [lumen] if lumen else [sys.executable, "-m", "lumen"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([*command, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from devslack import start as start_workspace

    levels = [int(x) for x in args.levels.split(",")]
    ws = Workspace.demo()
    runner, ws_url = await start_workspace(ws, "127.0.0.1", 0)
    config = devmode.demo_config()
    for venture in config.ventures:
        ws.ensure_channel(venture.channel)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with server_process("lumen", f"{ws_url}/api/", tmp, args.gc_freeze) as lumen_url:
                lumen = await measure(ws, lumen_url, levels, args.requests, args.warmup, True)
            async with server_process("bare", f"{ws_url}/api/", tmp, args.gc_freeze) as bare_url:
                bare = await measure(ws, bare_url, levels, args.requests, args.warmup, False)
            async with server_process("bare-inline", f"{ws_url}/api/", tmp, args.gc_freeze) as inline_url:
                inline = await measure(ws, inline_url, levels, args.requests, args.warmup, False)
    finally:
        await ws.settle()
        await runner.cleanup()

    help_s = help_seconds()
    ratios = {
        f"ratio_p99_c{level}": round(lumen[f"c{level}"]["p99_ms"] / bare[f"c{level}"]["p99_ms"], 2)
        for level in levels
    }
    # The stricter comparison: bare Bolt configured as Lumen is, answering when the listener returns.
    inline_ratios = {
        f"ratio_p99_c{level}_vs_inline": round(lumen[f"c{level}"]["p99_ms"] / inline[f"c{level}"]["p99_ms"], 2)
        for level in levels
    }
    met = {}
    for level in levels:
        met[f"p99_ratio_c{level}"] = ratios[f"ratio_p99_c{level}"] <= TARGET_P99_RATIO
        met[f"p99_under_{TARGET_P99_MS:g}ms_c{level}"] = lumen[f"c{level}"]["p99_ms"] < TARGET_P99_MS
    met["help"] = help_s < TARGET_HELP_SECONDS
    return {
        "lumen": lumen,
        "bare_bolt": bare,
        "bare_bolt_inline": inline,
        **ratios,
        **inline_ratios,
        "help_seconds": help_s,
        "requests_per_level": args.requests,
        "gc_freeze": args.gc_freeze,
        "warmup": args.warmup,
        "targets": {
            "p99_ratio_max": TARGET_P99_RATIO,
            "lumen_p99_ms_max": TARGET_P99_MS,
            "help_seconds_max": TARGET_HELP_SECONDS,
        },
        "met": met,
        "all_met": all(met.values()),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--levels", default="1,50")
    parser.add_argument("--gc-freeze", action="store_true")
    parser.add_argument("--serve", choices=["lumen", "bare", "bare-inline"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    with contextlib.redirect_stdout(sys.stderr):  # logs to stderr; stdout is the JSON alone
        if arguments.serve:
            asyncio.run(serve(arguments.serve, arguments.api_url, arguments.workdir, arguments.gc_freeze))
            sys.exit(0)
        result = asyncio.run(main(arguments))
    print(json.dumps(result, indent=2))
