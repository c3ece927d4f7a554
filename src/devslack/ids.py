"""Identifier factories shaped like Slack's (ts, trigger ids, event ids, view ids).

Why: the app under test may parse or compare these, so they must look real.
"""

from __future__ import annotations

import itertools
import secrets
import string
import time

_ALNUM = string.ascii_uppercase + string.digits


def random_id(prefix: str, length: int = 10) -> str:
    """Slack-style id such as ``V0ABC123XYZ`` (prefix letter + uppercase alnum)."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


class TsClock:
    """Issues message timestamps ("1732170000.000100") that are unique and strictly increasing.

    Slack uses ts as the message primary key, so two messages in the same microsecond
    must still get different values.
    """

    def __init__(self) -> None:
        self._last_us = 0

    def at_least(self, ts: float) -> None:
        """Never issue a ts at or before ``ts`` (messages restored from an earlier run)."""
        self._last_us = max(self._last_us, int(round(ts * 1_000_000)))

    def next(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_us = max(now_us, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"


_event_counter = itertools.count(1)


def event_id() -> str:
    return f"Ev{next(_event_counter):04d}{random_id('', 7)}"


def trigger_id() -> str:
    # Real ones look like "13345224609.738474920.8088930838d88f008e0".
    return f"{int(time.time() * 1000)}.{secrets.randbelow(10**9)}.{secrets.token_hex(10)}"


def action_ts() -> str:
    return f"{time.time():.6f}"
