"""Thin listeners: ack, parse with pure functions, call a service, render blocks."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from lumen.engine.drain import InFlight


def ack_first(work: Callable[..., Coroutine[Any, Any, None]], inflight: InFlight) -> Callable[..., Awaitable[None]]:
    """A listener that acks, then starts `work(body=…, client=…)` in a task tracked by `inflight`.

    The app runs with `process_before_response`: Bolt answers Slack when the listener returns,
    instead of polling every 10 ms for the ack of a listener it started as a task. Returning
    right after the ack is what keeps Slack's answer fast. (Bolt's lazy listeners are meant for
    FaaS: they dispatch the whole request again, signature check and all.)
    """
    wanted = set(inspect.signature(work).parameters)

    async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        available = {"body": body, "client": client}
        kwargs = {name: value for name, value in available.items() if name in wanted}
        inflight.spawn(work(**kwargs), name=f"lumen-listener:{work.__name__}")

    return listener
