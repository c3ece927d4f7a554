"""Slack request signing (v0 HMAC-SHA256), with knobs to forge bad signatures for tests."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass


def signature(secret: str, timestamp: str, body: bytes | str) -> str:
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, ts, body)}


@dataclass
class Forgery:
    """Makes the next ``times`` deliveries carry a wrong secret and/or a skewed (stale) timestamp."""

    secret: str | None = None
    timestamp_skew: int = 0
    times: int = 1
