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

from lumen.services import Services
from lumen.approvals.directory import ApproverDirectory
from lumen.slack.listeners import actions, approvals, ask, commands, events, outcomes
from lumen.slack.middleware import dedupe_events


def web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries transient failures."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    )
    if not any(isinstance(h, AsyncConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client


def build_slack_app(services: Services) -> AsyncApp:
    settings = services.settings
    app = AsyncApp(
        client=web_client(settings.slack_bot_token, settings.slack_api_url),
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode carries no signatures; HTTP mode always checks them.
        request_verification_enabled=not settings.socket_mode,
        logger=logging.getLogger("lumen.bolt"),
        # Slack gets its answer when a listener returns; listeners hand slow work to a task of
        # their own (`ack_first`, `InFlight.in_background`), so nothing waits on Bolt's 10 ms ack poll.
        process_before_response=True,
    )
    if services.directory.client is None:
        services.directory = ApproverDirectory(app.client)
    app.use(dedupe_events(services.db))
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
    approvals.register(app, services, services.directory)
    outcomes.register(app, services)
    ask.register(app, services)
    return app
