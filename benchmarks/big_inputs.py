"""How long one huge input blocks the replica's event loop, and how long its answer takes.

Two processes, as in production:

  Slack   this process: the dev workspace, which sends each input (signed, over HTTP) and
          receives the answer (the thread reply, or the ephemeral note on the response_url);
  server  the real Replica on SQLite with the demo lumen.yml, alone in its process, with a
          monitor task that wakes every 5 ms and notes each time it woke late: that lateness is
          the time the loop was blocked. The gaps are matched to each input's window afterwards.

The inputs: a 120k-character DM, a 900k-character DM, and `/lumen ask` with a 900k-character
question (and an 800k one with quotes, which send the command text through shlex). Each is sent
alone, after the loop has been quiet; a window ends when the answer arrives (or at --timeout).

    python benchmarks/big_inputs.py [--timeout 150]

Prints one JSON object: per input, the longest single block and the total blocked time in the
window (ms), the time to the answer (s), and the answer's first words (or the HTTP refusal of
a body over the size cap). Target: no block over 100 ms, and an answer (or a refusal) within
5 s, for every input.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LUMEN_LOG_LEVEL", "warning")

import aiohttp  # noqa: E402

from devslack import Workspace  # noqa: E402
from devslack.payloads import slash_command  # noqa: E402
from devslack.signing import signature_headers  # noqa: E402

TICK_S = 0.005
TARGET_BLOCK_MS = 100
TARGET_ANSWER_S = 5.0


async def serve(api_url: str, workdir: str) -> None:
    """The replica, with the loop monitor; prints READY, then the gaps as JSON when stdin closes."""
    import lumen.devmode as devmode
    from lumen.runtime import Replica, prepare
    from lumen.settings import Settings

    ws = Workspace()
    settings = Settings(
        SLACK_BOT_TOKEN=ws.bot_token,
        SLACK_SIGNING_SECRET=ws.signing_secret,
        SLACK_API_URL=api_url,
        LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{Path(workdir) / 'lumen.db'}",
        LUMEN_CONFIG=str(Path(workdir) / "lumen.yml"),
        LUMEN_LOG_LEVEL="warning",
    )
    replica = Replica(await prepare(settings, devmode.demo_config()))
    url = await replica.start("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    # Each gap is written as it is seen, so that a loop still blocked when the run ends (the
    # server is then killed) has told what it saw so far: [wall-clock start, seconds blocked].
    gaps = (Path(workdir) / "gaps.jsonl").open("a", buffering=1)

    async def monitor() -> None:
        last, ticks = loop.time(), 0
        while True:
            await asyncio.sleep(TICK_S)
            now, ticks = loop.time(), ticks + 1
            late = now - last - TICK_S
            if late > 0.002:
                gaps.write(json.dumps([time.time() - (now - last), late]) + "\n")
            elif ticks % 100 == 0:  # a heartbeat, so that a block nobody saw end is still measured
                gaps.write(json.dumps([time.time(), 0.0]) + "\n")
            last = now

    watcher = asyncio.create_task(monitor())
    print(f"READY {url}", file=sys.__stdout__, flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    watcher.cancel()
    await replica.stop()


def words(n: int, *, quotes: bool = False) -> str:
    unit = 'what did "acme" try ' if quotes else "what did acme try "
    return (unit * (n // len(unit) + 1))[:n]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from devslack import start as start_workspace

    import lumen.devmode as devmode

    ws = Workspace.demo(retry_delays=(0.1, 0.1, 0.1))
    runner, ws_url = await start_workspace(ws, "127.0.0.1", 0)
    for venture in devmode.demo_config().ventures:
        ws.ensure_channel(venture.channel)
    tmp = tempfile.mkdtemp()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", "--api-url", f"{ws_url}/api/", "--workdir", tmp,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26,
    )
    line = (await asyncio.wait_for(proc.stdout.readline(), 90)).decode()  # type: ignore[union-attr]
    if not line.startswith("READY "):
        raise RuntimeError(f"server did not start: {line!r}")
    app_url = line.split()[1]
    ws.request_url = f"{app_url}/slack/events"
    windows: dict[str, dict[str, Any]] = {}

    async def dm(name: str, text: str) -> None:
        channel = ws.dm_with("U0ALICE")
        started = time.time()
        asked = await ws.send_message("U0ALICE", channel.id, text)
        delivery = ws.deliveries[-1]
        if not delivery.ok:  # refused at the door (413 over the size cap): nothing to wait for
            refused = f"HTTP {delivery.status}: {delivery.body[:100]}"
            windows[name] = {"start": started, "end": time.time(), "chars": len(text), "answer": refused, "refused": True}
            return
        try:
            replies = await ws.wait_for(
                lambda: [m for m in ws.thread(channel.id, asked.ts) if m.ts != asked.ts and m.user == ws.bot.id], timeout=args.timeout
            )
            answer: str | None = replies[0].text
        except TimeoutError:
            answer = None
        windows[name] = {"start": started, "end": time.time(), "chars": len(text), "answer": answer}

    async def ask(name: str, question: str) -> None:
        user, channel = ws._user("U0ALICE"), ws._channel("venture-acme")
        ru = ws.response_urls.issue(user.id, channel.id)
        body = urlencode(slash_command(ws, user, channel, "/lumen", f"ask {question}", ws.triggers.issue(user.id), ws.response_url_for(ru.token)))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signature_headers(ws.signing_secret, body)}
        started = time.time()
        try:
            timeout = aiohttp.ClientTimeout(total=args.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as http, http.post(ws.request_url, data=body.encode(), headers=headers) as resp:
                status, text = resp.status, await resp.text()
        except TimeoutError:
            status, text = 0, "no ack"
        answer = None
        if status == 0:
            pass
        elif status == 200 and text:
            answer = json.loads(text).get("text")
        elif status == 200:
            with contextlib.suppress(TimeoutError):
                logged = await ws.wait_for(lambda: ws.response_urls.by_token[ru.token].log, timeout=args.timeout)
                answer = logged[0].get("text")
        else:
            answer = f"HTTP {status}: {text[:100]}"
        windows[name] = {"start": started, "end": time.time(), "chars": len(question), "body_bytes": len(body), "answer": answer}

    try:
        await asyncio.sleep(1.0)  # the replica's start-up work settles
        await dm("dm_120k_chars", words(120_000))
        await asyncio.sleep(0.5)
        await dm("dm_900k_chars", words(900_000))  # its event is over the 1 MiB cap (text and blocks)
        await asyncio.sleep(0.5)
        await ask("ask_900k_chars", words(900_000))
        await asyncio.sleep(0.5)
        await ask("ask_800k_chars_with_quotes", words(800_000, quotes=True))
        await asyncio.sleep(0.5)
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        killed_at = None
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:  # its loop is still blocked
            killed_at = time.time()
            proc.kill()
            await proc.wait()
        with contextlib.suppress(TimeoutError):
            await ws.settle(timeout=10)
        await runner.cleanup()
    gaps = [json.loads(line) for line in (Path(tmp) / "gaps.jsonl").read_text().splitlines()]
    if killed_at is not None:  # blocked from its last sign of life until it was killed
        seen = max((start + late for start, late in gaps), default=killed_at)
        gaps.append([seen, killed_at - seen])
    result: dict[str, Any] = {}
    met = {}
    for name, w in windows.items():
        # A gap that began in the window counts whole, even if it outlasted the window.
        mine = [late for start, late in gaps if w["start"] - 0.01 <= start <= w["end"]]
        longest = round(max(mine, default=0.0) * 1000, 1)
        answer_s = round(w["end"] - w["start"], 3)
        result[name] = {
            "chars": w["chars"],
            **({"body_bytes": w["body_bytes"]} if "body_bytes" in w else {}),
            "longest_block_ms": longest,
            "total_blocked_ms": round(sum(mine) * 1000, 1),
            "answer_s": answer_s,
            "answered": w["answer"] is not None,
            **({"refused": True} if w.get("refused") else {}),
            "answer": (w["answer"] or "")[:120],
        }
        met[name] = w["answer"] is not None and longest <= TARGET_BLOCK_MS and answer_s <= TARGET_ANSWER_S
    return {
        "benchmark": "big_inputs",
        "inputs": result,
        "targets": {"longest_block_ms_max": TARGET_BLOCK_MS, "answer_s_max": TARGET_ANSWER_S},
        "met": met,
        "all_met": all(met.values()),
        "server_killed_while_blocked": killed_at is not None,
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=150.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    with contextlib.redirect_stdout(sys.stderr):  # logs to stderr; stdout is the JSON alone
        if arguments.serve:
            asyncio.run(serve(arguments.api_url, arguments.workdir))
            sys.exit(0)
        result = asyncio.run(main(arguments))
    print(json.dumps(result, indent=2))
