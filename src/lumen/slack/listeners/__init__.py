"""Thin listeners: ack, parse with pure functions, call a service, render blocks."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from lumen.engine.drain import InFlight


def ack_first(work: Callable[..., Awaitable[None]], inflight: InFlight) -> Callable[..., Awaitable[None]]:
    """A listener that acks at once, then does `work(body=…, client=…)`, tracked by `inflight`
    so that a stop waits for it.

    Bolt answers Slack as soon as ack() is called and lets the listener run on, so the work
    happens after the ack in the same task. (Bolt's lazy listeners are meant for FaaS: they
    dispatch the whole request again, signature check and all, for every piece of work.)
    """
    wanted = set(inspect.signature(work).parameters)

    async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        available = {"body": body, "client": client}
        await work(**{name: value for name, value in available.items() if name in wanted})

    return inflight.track(listener)
