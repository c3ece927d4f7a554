"""The Bolt AsyncApp, wired to Lumen's listeners."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from lumen.container import Container
from lumen.settings import Settings
from lumen.slack.identity import BotIdentity
from lumen.slack.listeners import actions, approvals, ask, commands, events, outcomes, questions
from lumen.slack.middleware import DedupeEvents, InboxApp

SLACK_PATH = "/slack/events"


def web_client(settings: Settings) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries transient failures."""
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=15)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    )
    if not any(isinstance(h, AsyncConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client


def build_slack_app(c: Container, client: AsyncWebClient, identity: BotIdentity | None = None) -> AsyncApp:
    settings = c.settings
    identity = identity or BotIdentity(client)
    app = InboxApp(
        db=c.db,
        inflight=c.inflight,
        # The token comes with each request from `identity`, never from Bolt's own
        # auth.test, whose failure on a cold start would drop the request (see slack/identity.py).
        client=AsyncWebClient(base_url=client.base_url, timeout=client.timeout, retry_handlers=list(client.retry_handlers)),
        authorize=identity,
        signing_secret=settings.slack_signing_secret or "",
        # HTTP requests are checked before Bolt sees them (slack/http.py: size, timestamp and
        # signature over the raw bytes, shape, replays); Socket Mode carries no signatures.
        request_verification_enabled=False,
        logger=logging.getLogger("lumen.bolt"),
        # Slack gets its answer when a listener returns; listeners hand slow work to a task of
        # their own (`ack_first`, `InFlight.in_background`), so nothing waits on Bolt's 10 ms ack poll.
        process_before_response=True,
    )
    app.use(DedupeEvents(c.db))
    app.ready_answers = commands.register(app, c)
    events.register(app, c)
    actions.register(app, c)
    approvals.register(app, c)
    questions.register(app, c)
    outcomes.register(app, c)
    ask.register(app, c)
    return app
