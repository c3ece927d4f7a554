"""Run the dev workspace standalone: ``python -m devslack --port 3000 --request-url http://localhost:3100/slack/events``."""

from __future__ import annotations

import argparse
import asyncio

from .server import start
from .workspace import Workspace


async def serve(args: argparse.Namespace) -> None:
    ws = Workspace.demo(request_url=args.request_url, socket_mode=args.request_url is None)
    for name in args.channel:
        ws.ensure_channel(name)
    runner, base_url = await start(ws, args.host, args.port)
    print(f"devslack running at {base_url}/  (Web API: {base_url}/api/)")
    print(f"  bot token {ws.bot_token} · app token {ws.app_token} · signing secret {ws.signing_secret}")
    print(f"  delivering to {args.request_url}" if args.request_url else "  waiting for a Socket Mode connection")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="Lumen's development Slack workspace")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--request-url", help="the app's HTTP endpoint; omit for Socket Mode")
    parser.add_argument("--channel", action="append", default=[], help="extra channel to create (repeatable)")
    try:
        asyncio.run(serve(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
