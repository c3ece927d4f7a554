"""Who the bot is (auth.test), learned without ever holding up a request.

Bolt calls auth.test on the first request it gets; when that fails (Slack's Web API down at
a cold start), it answers Slack 200 with "please reinstall this app" and drops the request,
and Slack never retries a command or a click. Lumen has one bot token, so it authorizes every
request with it at once, and learns the bot's identity (its bot id and user id, which Bolt
uses to ignore the bot's own events) in the background, asking again until Slack answers.

The same question tells `/readyz` whether Slack is reachable and the token good.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, NamedTuple

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from lumen.log import get_logger

log = get_logger(__name__)

# Answers that no retry changes: the token itself is refused.
TOKEN_REJECTED = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
# How long an answer stands: readiness probes come every few seconds.
FRESH_S = 5.0
TIMEOUT_S = 3


class SlackHealth(NamedTuple):
    ok: bool
    detail: str  # "reachable", "unreachable: …", "token rejected: invalid_auth"


class BotIdentity(AsyncAuthorize):
    def __init__(self, client: AsyncWebClient) -> None:
        super().__init__()
        self.token = client.token
        # Its own client: no retry handlers, a short timeout; nobody waits on it but a probe.
        self._client = AsyncWebClient(token=client.token, base_url=client.base_url, timeout=TIMEOUT_S, retry_handlers=[])
        self.known: dict[str, Any] | None = None
        self._health: SlackHealth | None = None
        self._asked_at = float("-inf")
        self._asking: asyncio.Task[SlackHealth] | None = None

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        """Bolt's authorize: the bot token, with the identity as far as it is known."""
        if self._health is not None and self._health.detail.startswith("token rejected"):
            self.learn()
            return None  # Bolt tells the person to reinstall the app, which is the fix
        if self.known is None:
            self.learn()
        known = self.known or {}
        return AuthorizeResult(
            enterprise_id=enterprise_id or known.get("enterprise_id"),
            team_id=team_id or known.get("team_id"),
            bot_id=known.get("bot_id"),
            bot_user_id=known.get("user_id"),
            bot_token=self.token,
            user_id=user_id,
        )

    def learn(self) -> None:
        """Ask Slack in the background, unless an answer is fresh or a question under way."""
        if self._asking is None and time.monotonic() - self._asked_at >= FRESH_S:
            self._asking = asyncio.create_task(self._ask(), name="lumen-auth-test")

    async def check(self) -> SlackHealth:
        """Is Slack reachable, and does it take the token? Asks at most every few seconds."""
        if self._asking is None and (self._health is None or time.monotonic() - self._asked_at >= FRESH_S):
            self._asking = asyncio.create_task(self._ask(), name="lumen-auth-test")
        if self._asking is not None:
            return await asyncio.shield(self._asking)
        return self._health or SlackHealth(False, "not asked yet")

    async def _ask(self) -> SlackHealth:
        try:
            response = await self._client.auth_test()
            data = response.data if isinstance(response.data, dict) else {}
            if self.known is None:
                log.info("lumen.slack.identity_learned", bot_id=data.get("bot_id"), bot_user_id=data.get("user_id"))
            self.known = data
            health = SlackHealth(True, "reachable")
        except SlackApiError as exc:
            error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
            status = exc.response.status_code
            if error in TOKEN_REJECTED:
                health = SlackHealth(False, f"token rejected: {error}")
            else:
                health = SlackHealth(False, f"unreachable: HTTP {status} {error}".rstrip())
        except Exception as exc:
            health = SlackHealth(False, f"unreachable: {type(exc).__name__}: {exc}"[:300])
        if not health.ok and (self._health is None or self._health.detail != health.detail):
            log.warning("lumen.slack.not_ready", reason=health.detail)
        self._health, self._asked_at, self._asking = health, time.monotonic(), None
        return health
