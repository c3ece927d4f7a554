"""The Workspace: state + configuration + test hooks (rate limits, outage, forged signatures).

User-side behaviour (typing, clicking, submitting) lives in ``actions.py``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import payloads, persistence
from .actions import UserActions
from .files import FileStore
from .delivery import EVENTS, Deliverer, Delivery
from .faults import Faults, Listener, _MethodFault, _Window
from .signing import Forgery
from .socket_mode import SocketHub
from .state import WorkspaceState
from .tokens import ResponseUrls, TriggerIds

# Event subscriptions of the Lumen app manifest; add "message.channels" etc. to get plain channel messages.
DEFAULT_EVENT_SUBSCRIPTIONS = frozenset({"app_mention", "message.im", "app_home_opened", "assistant_thread_started"})


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    time: float
    token: str | None = None
    status: int = 200
    response: dict | None = None


@dataclass
class _RateLimit:
    times: int
    retry_after: int


@dataclass
class DemoUser:
    id: str
    name: str
    real_name: str
    extra: dict = field(default_factory=dict)


DEMO_USERS = [
    DemoUser("U0ALICE", "alice", "Alice Archer", {"is_admin": True}),  # team lead
    DemoUser("U0BOB", "bob", "Bob Baker"),
    DemoUser("U0CAROL", "carol", "Carol Chen", {"tz": "America/New_York"}),
    DemoUser("U0DAN", "dan", "Dan Dietrich"),
]


class Workspace(UserActions, WorkspaceState):
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-dev-token",
        app_token: str = "xapp-dev-token",
        signing_secret: str = "dev-signing-secret",
        verification_token: str = "dev-verification-token",
        request_url: str | None = None,
        socket_mode: bool = False,
        ack_timeout: float = 3.0,
        retry_delays: Iterable[float] = (1.0, 2.0, 4.0),
        trigger_ttl: float = 3.0,
        event_subscriptions: Iterable[str] = DEFAULT_EVENT_SUBSCRIPTIONS,
        base_url: str = "http://127.0.0.1:0",
        timezone: str = "UTC",
        **state_kw: Any,
    ) -> None:
        super().__init__(**state_kw)
        self.bot_token, self.app_token = bot_token, app_token
        self.signing_secret, self.verification_token = signing_secret, verification_token
        self.request_url = request_url  # HTTP mode target; ignored while a Socket Mode client is connected
        self.socket_mode = socket_mode  # documents intent; delivery follows actual connections
        self.ack_timeout = ack_timeout
        self.retry_delays = tuple(retry_delays)  # Slack: ~immediately, 1 min, 5 min; shortened for dev
        self.event_subscriptions = set(event_subscriptions)
        self.base_url = base_url.rstrip("/")  # replaced by server.start() with the bound address
        # The page shows every time in this one zone, and says which (the app's workspace zone).
        self.timezone = timezone
        self.calls: list[ApiCall] = []
        self.triggers = TriggerIds(trigger_ttl)
        self.response_urls = ResponseUrls()
        self.files = FileStore()
        self.socket_hub = SocketHub(self.app_id)
        self.deliverer = Deliverer(self)
        self.sent_events: dict[str, dict] = {}  # event_id -> envelope (for redeliver)
        self._rate_limits: dict[str, _RateLimit] = {}
        self.faults = Faults()
        self.listener: Listener | None = None  # set by server.start()
        self._forgery: Forgery | None = None
        self._tasks: set[asyncio.Task] = set()
        self._autosave: persistence.Autosave | None = None

    @classmethod
    def demo(cls, **kw: Any) -> "Workspace":
        """Team T0DEV with alice (lead), bob, carol, dan, the lumen bot, #general and @leads."""
        ws = cls(**kw)
        for u in DEMO_USERS:
            ws.add_user(u.id, u.name, u.real_name, **u.extra)
        ws.ensure_channel("general", topic="Company-wide announcements")
        ws.add_usergroup("leads", ["U0ALICE"], name="Team leads", id="S0LEADS")
        return ws

    def persist(self, path: str | Path) -> bool:
        """Keep this workspace in ``path`` across restarts: load what an earlier run saved
        (True if there was something), then save every change. Raises
        ``persistence.UnreadableWorkspace`` for a file it cannot read."""
        path = Path(path)
        saved = persistence.read(path)
        if saved is not None:
            persistence.restore(self, saved)
            self._changed({"type": "channels"})
        self._autosave = persistence.Autosave(self, path)
        if saved is None:
            self._autosave.flush()
        return saved is not None

    # ---- test hooks ------------------------------------------------------------
    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 + Retry-After."""
        self._rate_limits[method] = _RateLimit(times, retry_after)

    def outage(self, down: bool = True, status: int = 503, *, response_urls: bool = False) -> None:
        """While down, every Web API call (and, with ``response_urls``, every response_url)
        answers HTTP ``status`` (503, 500…)."""
        self.faults.status = status if down else None
        self.faults.response_urls_down = down and response_urls

    @property
    def is_down(self) -> bool:
        return self.faults.status is not None

    def slow(self, seconds: float) -> None:
        """Every Web API call and response_url is handled, then answered ``seconds`` later (0: at once)."""
        self.faults.delay = seconds

    def fail(self, method: str, error: str | None = "internal_error", *, status: int = 200, times: int | None = None) -> None:
        """``method`` ("*": every method) answers ``{"ok": false, "error": error}`` with HTTP
        ``status``, ``times`` times (None: until cleared with ``error=None``). Unlike ``outage``,
        response_urls keep working."""
        if error is None:
            self.faults.methods.pop(method, None)
        else:
            self.faults.methods[method] = _MethodFault(error, status, times)

    def rate_limit_window(self, method: str, calls: int = 1, per: float = 1.0) -> None:
        """Slack's tiers: at most ``calls`` calls of ``method`` per ``per`` seconds; more answer
        429 with the seconds left in the window as Retry-After. ``calls=0`` lifts it."""
        if calls <= 0:
            self.faults.windows.pop(method, None)
        else:
            self.faults.windows[method] = _Window(calls, per)

    async def refuse_connections(self, refuse: bool = True) -> None:
        """Close the listening socket and every open connection (True), or listen again on the
        same port (False): the Web API, response_urls and the page become unreachable."""
        if self.listener is None:
            raise RuntimeError("the workspace is not being served (devslack.start)")
        await (self.listener.refuse() if refuse else self.listener.accept())

    def take_rate_limit(self, method: str) -> int | None:
        """Consume one pending rate limit for ``method``; returns Retry-After seconds or None."""
        rl = self._rate_limits.get(method)
        if rl is None or rl.times <= 0:
            return None
        rl.times -= 1
        return rl.retry_after

    def forge_next_signature(self, *, secret: str | None = None, timestamp_skew: int = 0, times: int = 1) -> None:
        """Sign the next ``times`` HTTP deliveries with a wrong secret and/or skewed timestamp (e.g. -600)."""
        self._forgery = Forgery(secret=secret, timestamp_skew=timestamp_skew, times=times)

    def record_call(self, method: str, params: dict, token: str | None) -> ApiCall:
        call = ApiCall(method=method, params=params, time=time.time(), token=token)
        self.calls.append(call)
        return call

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        await self.socket_hub.disconnect_all(reason)

    # ---- deliveries ----------------------------------------------------------------
    @property
    def deliveries(self) -> list[Delivery]:
        return self.deliverer.history

    async def deliver_event(self, event: dict, *, duplicate: bool = False) -> Delivery:
        """Wrap ``event`` in an event_callback envelope and deliver it (with Slack's retries).
        ``duplicate=True`` sends the identical envelope once more afterwards, as Slack sometimes does."""
        envelope = payloads.event_envelope(self, event)
        self.sent_events[envelope["event_id"]] = envelope
        delivery = await self.deliverer.deliver(EVENTS, envelope, event_id=envelope["event_id"])
        if duplicate:
            await self.redeliver(envelope["event_id"])
        return delivery

    async def redeliver(self, event_id: str) -> Delivery:
        """Send an already delivered envelope again (same event_id) to exercise the app's dedup."""
        envelope = self.sent_events[event_id]
        return await self.deliverer.deliver(EVENTS, envelope, event_id=event_id, retry=False)

    def in_background(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until background deliveries (started with wait=False or from the page) are finished."""
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*list(self._tasks), return_exceptions=True), timeout)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._autosave is not None:
            self._autosave.close()
            self._autosave = None
        await self.socket_hub.close()
        await self.deliverer.close()
