"""How fast `/lumen status` is acked, and what each one costs the server, against bare Bolt.

Three processes play their parts, as they would in production:

  Slack     this process: the dev workspace (Web API, and the response_url every answer goes to);
  server    one process per app under test, alone: Lumen (the real Replica on SQLite with the demo
            lumen.yml: scheduler, workers, outbox and all), bare Bolt, and bare Bolt with
            `process_before_response=True` (Lumen's setting: Bolt answers when the listener
            returns instead of polling every 10 ms for a listener task's ack);
  client    a process of its own that sends the signed slash commands (`concurrency` at a time,
            one keep-alive connection each, like Slack's senders) and times each round trip, from
            before the request is written to the ack's last byte.

Lumen answers with the status of the channel's venture: in the ack itself when a report loaded
within the last second is at hand (counted as `answered_in_ack`), else on the response_url after
an empty ack; a level ends when every answer has arrived. The bare apps only ack (the
strictest baseline: the targets compare with it), except `bare_bolt_inline_answering`, which also
posts a fixed line with Bolt's own `respond`, as a minimal app doing Lumen's visible job would. The server's CPU per command is read from the kernel (/proc/<pid>/task/*/schedstat,
every thread, in ns) around the measured commands and their answers, less what the server burns
idle over as long (measured just before).

    python benchmarks/ack_latency.py [--requests 400] [--warmup 50] [--levels 1,50] [--rounds 3]

With ACK_BENCH_PROFILE=/tmp/ack, each server writes cProfile stats to /tmp/ack.<kind> (slower:
for finding where the time goes, not for the figures).

Each server is started afresh for every round; a level's figures are the median over rounds of
its p50/p99 and CPU per command (the machine is shared: rounds take the noise out of single runs).
Prints one JSON object. Targets: at every level, Lumen's round-trip p99 and CPU per command within
1.5x bare Bolt with process_before_response; `lumen --help` under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from urllib.parse import urlencode

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LUMEN_LOG_LEVEL", "warning")

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from devslack import Workspace  # noqa: E402
from devslack.payloads import slash_command  # noqa: E402
from devslack.signing import signature_headers  # noqa: E402

TARGET_RATIO = 1.5
TARGET_HELP_SECONDS = 0.5
CHANNEL, USER = "venture-acme", "U0ALICE"
# bare: acks only (the strictest baseline, the one the targets use); bare-answering: acks, then
# answers on the response_url with Bolt's `respond`, as a minimal app doing Lumen's visible job.
KINDS = ("lumen", "bare", "bare-inline", "bare-inline-answering")
NAMES = {"lumen": "lumen", "bare": "bare_bolt", "bare-inline": "bare_bolt_inline", "bare-inline-answering": "bare_bolt_inline_answering"}


# --- the server processes ---------------------------------------------------------------------


async def serve(kind: str, api_url: str, workdir: str) -> None:
    """One app, in this process: print its URL and pid, serve until stdin closes."""
    import logging

    logging.getLogger("lumen.bolt").setLevel(logging.WARNING)
    ws = Workspace()  # only for the default tokens and signing secret
    if kind == "lumen":
        import lumen.devmode as devmode
        from lumen.runtime import Replica, prepare
        from lumen.settings import Settings

        settings = Settings(
            SLACK_BOT_TOKEN=ws.bot_token,
            SLACK_SIGNING_SECRET=ws.signing_secret,
            SLACK_API_URL=api_url,
            LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{Path(workdir) / 'lumen.db'}",
            LUMEN_CONFIG=str(Path(workdir) / "lumen.yml"),
            LUMEN_LOG_LEVEL="warning",
            # One sender stands for a whole workspace here: a per-person limit would turn most
            # answers into "try again in a minute" and measure less than Lumen's real work.
            LUMEN_COMMANDS_PER_MINUTE=10**9,
        )
        replica = Replica(await prepare(settings, devmode.demo_config()))
        url = await replica.start("127.0.0.1", 0)
        stop: Callable[[], Awaitable[None]] = replica.stop
    else:
        from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
        from slack_sdk.web.async_client import AsyncWebClient

        inline = kind.startswith("bare-inline")
        answers = kind.endswith("answering")
        app = AsyncApp(
            client=AsyncWebClient(token=ws.bot_token, base_url=api_url),
            signing_secret=ws.signing_secret,
            process_before_response=inline,
        )
        pending: set[asyncio.Task[Any]] = set()

        @app.command("/lumen")
        async def _status(ack: AsyncAck, respond: AsyncRespond) -> None:
            await ack()
            if not answers:
                return
            answer = respond(text="Lumen status: Acme Analytics (growth, 1 approval)", response_type="ephemeral")
            if inline:  # answer after the listener returns, as Lumen does, so the ack is not held
                task = asyncio.ensure_future(answer)
                pending.add(task)
                task.add_done_callback(pending.discard)
            else:  # Bolt has acked already: its listener runs on after the ack
                await answer

        runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        stop = runner.cleanup
    profiler = None
    if os.environ.get("ACK_BENCH_PROFILE"):  # where a server's time goes: cProfile stats to this path
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    print(f"READY {url} {os.getpid()}", file=sys.__stdout__, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{os.environ['ACK_BENCH_PROFILE']}.{kind}")
    await stop()


@contextlib.asynccontextmanager
async def server_process(kind: str, api_url: str, workdir: str):  # type: ignore[no-untyped-def]
    command = [sys.executable, __file__, "--serve", kind, "--api-url", api_url, "--workdir", workdir]
    proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 90)).decode()  # type: ignore[union-attr]
        if not line.startswith("READY "):
            raise RuntimeError(f"{kind} server did not start: {line!r}")
        _, url, pid = line.split()
        yield url, int(pid)
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of `pid` so far (schedstat: ns; stat's ticks are 10 ms coarse)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


# --- the client process -------------------------------------------------------------------------


async def client(plan: dict[str, Any]) -> dict[str, Any]:
    """Send the planned commands, `concurrency` at a time; return each round trip (s) and how
    many acks carried the answer themselves."""
    bodies = list(plan["bodies"])
    round_trips: list[float] = []
    failures: list[Any] = []
    in_ack = 0
    connector = aiohttp.TCPConnector(limit=plan["concurrency"])
    async with aiohttp.ClientSession(connector=connector) as http:

        async def sender() -> None:
            while bodies:
                body = bodies.pop()
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                headers.update(signature_headers(plan["secret"], body))
                started = time.perf_counter()
                async with http.post(plan["url"], data=body.encode(), headers=headers) as response:
                    text = await response.text()
                round_trips.append(time.perf_counter() - started)
                if response.status != 200 or (text and "blocks" not in json.loads(text)):
                    failures.append((response.status, text[:200]))
                elif text:
                    nonlocal in_ack
                    in_ack += 1

        await asyncio.gather(*(sender() for _ in range(plan["concurrency"])))
    if failures:
        raise RuntimeError(f"{len(failures)} commands not acked with 200 (empty, or with the answer): {failures[:3]}")
    return {"round_trips": round_trips, "answered_in_ack": in_ack}


async def run_client(plan: dict[str, Any], tmp: Path) -> dict[str, Any]:
    path = tmp / "plan.json"
    path.write_text(json.dumps(plan))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client", str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    if proc.returncode:
        raise RuntimeError(f"client failed: {err.decode()[-2000:]}")
    return json.loads(out)


# --- measuring ------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:  # nearest rank
        index = max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))
        return round(ordered[index] * 1000, 3)

    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ordered[-1] * 1000, 3), "n": len(ordered)}


def answered(ws: Workspace) -> int:
    return sum(len(ru.log) for ru in ws.response_urls.by_token.values())


def plan(ws: Workspace, url: str, total: int, concurrency: int) -> dict[str, Any]:
    """Slash command forms exactly as the workspace would send them, each with a fresh response_url."""
    user, channel = ws._user(USER), ws._channel(CHANNEL)
    bodies = []
    for _ in range(total):
        ru = ws.response_urls.issue(user.id, channel.id)
        form = slash_command(ws, user, channel, "/lumen", "status", ws.triggers.issue(user.id), ws.response_url_for(ru.token))
        bodies.append(urlencode(form))
    return {"url": f"{url}/slack/events", "secret": ws.signing_secret, "concurrency": concurrency, "bodies": bodies}


async def level(
    ws: Workspace, url: str, pid: int, tmp: Path, concurrency: int, requests: int, warmup: int, answers: bool
) -> dict[str, Any]:
    before = answered(ws)
    warm = await run_client(plan(ws, url, warmup, concurrency), tmp)
    expected = warmup - warm["answered_in_ack"] if answers else 0
    await ws.wait_for(lambda: answered(ws) - before >= expected, timeout=120)
    await asyncio.sleep(0.3)  # let the warm-up's tail settle

    idle_started, idle_cpu = time.perf_counter(), cpu_seconds(pid)
    await asyncio.sleep(1.0)
    idle_rate = (cpu_seconds(pid) - idle_cpu) / (time.perf_counter() - idle_started)

    work = plan(ws, url, requests, concurrency)  # built before the clock starts
    before = answered(ws)
    started, cpu_before = time.perf_counter(), cpu_seconds(pid)
    sent = await run_client(work, tmp)
    expected = requests - sent["answered_in_ack"] if answers else 0
    await ws.wait_for(lambda: answered(ws) - before >= expected, timeout=120)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    return {
        "round_trip": percentiles(sent["round_trips"]),
        "answered_in_ack": sent["answered_in_ack"],
        "cpu_ms_per_command": round(max(0.0, cpu - idle_rate * elapsed) / requests * 1000, 4),
        "cpu_ms_per_command_raw": round(cpu / requests * 1000, 4),
        "idle_cpu_share": round(idle_rate, 4),
        "commands_per_s": round(requests / elapsed, 1),
    }


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "round_trip_p50_ms": round(statistics.median(r["round_trip"]["p50_ms"] for r in rounds), 3),
        "round_trip_p99_ms": round(statistics.median(r["round_trip"]["p99_ms"] for r in rounds), 3),
        "cpu_ms_per_command": round(statistics.median(r["cpu_ms_per_command"] for r in rounds), 4),
        "commands_per_s": round(statistics.median(r["commands_per_s"] for r in rounds), 1),
        "rounds": rounds,
    }


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

    import lumen.devmode as devmode

    levels = [int(x) for x in args.levels.split(",")]
    ws = Workspace.demo()
    runner, ws_url = await start_workspace(ws, "127.0.0.1", 0)
    for venture in devmode.demo_config().ventures:
        ws.ensure_channel(venture.channel)
    measured: dict[str, dict[int, list[dict[str, Any]]]] = {k: {n: [] for n in levels} for k in KINDS}
    try:
        for _ in range(args.rounds):
            for kind in KINDS:
                with tempfile.TemporaryDirectory() as tmp:
                    async with server_process(kind, f"{ws_url}/api/", tmp) as (url, pid):
                        for n in levels:
                            answers = kind in ("lumen", "bare-inline-answering")
                            measured[kind][n].append(
                                await level(ws, url, pid, Path(tmp), n, args.requests, args.warmup, answers)
                            )
    finally:
        await ws.settle()
        await runner.cleanup()

    result: dict[str, Any] = {k: {f"c{n}": median_of(measured[k][n]) for n in levels} for k in KINDS}
    ratios, met = {}, {}
    for n in levels:
        lumen, inline, bare = result["lumen"][f"c{n}"], result["bare-inline"][f"c{n}"], result["bare"][f"c{n}"]
        answering = result["bare-inline-answering"][f"c{n}"]
        p99 = lumen["round_trip_p99_ms"] / inline["round_trip_p99_ms"]
        cpu = lumen["cpu_ms_per_command"] / inline["cpu_ms_per_command"]
        ratios[f"c{n}"] = {
            "p99_vs_bolt_inline": round(p99, 2),
            "cpu_vs_bolt_inline": round(cpu, 2),
            "p99_vs_bolt_default": round(lumen["round_trip_p99_ms"] / bare["round_trip_p99_ms"], 2),
            "cpu_vs_bolt_default": round(lumen["cpu_ms_per_command"] / bare["cpu_ms_per_command"], 2),
            "p99_vs_bolt_inline_answering": round(lumen["round_trip_p99_ms"] / answering["round_trip_p99_ms"], 2),
            "cpu_vs_bolt_inline_answering": round(lumen["cpu_ms_per_command"] / answering["cpu_ms_per_command"], 2),
        }
        met[f"p99_c{n}"] = p99 <= TARGET_RATIO
        met[f"cpu_c{n}"] = cpu <= TARGET_RATIO
    help_s = help_seconds()
    met["help"] = help_s < TARGET_HELP_SECONDS
    return {
        "benchmark": "ack_latency",
        **{NAMES[k]: result[k] for k in KINDS},
        "ratios": ratios,
        "help_seconds": help_s,
        "requests_per_level": args.requests,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "targets": {"ratio_max": TARGET_RATIO, "help_seconds_max": TARGET_HELP_SECONDS},
        "met": met,
        "all_met": all(met.values()),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--levels", default="1,50")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.client:
        print(json.dumps(asyncio.run(client(json.loads(Path(arguments.client).read_text())))))
        sys.exit(0)
    with contextlib.redirect_stdout(sys.stderr):  # logs to stderr; stdout is the JSON alone
        if arguments.serve:
            asyncio.run(serve(arguments.serve, arguments.api_url, arguments.workdir))
            sys.exit(0)
        result = asyncio.run(main(arguments))
    print(json.dumps(result, indent=2))
