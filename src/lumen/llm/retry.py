"""Which model errors are worth retrying, and how long to wait before the next try."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass
from typing import Any

_RETRYABLE_STATUS = {408, 409, 425, 429}
_TRANSIENT_NAMES = (
    "Timeout",
    "APIConnectionError",
    "ServiceUnavailableError",
    "InternalServerError",
)


@dataclass(frozen=True)
class Failure:
    reason: str  # one line for the operator
    retryable: bool  # False: move on to the fallback model at once
    retry_after_s: float | None = None


def classify(exc: BaseException, timeout_s: float | None = None) -> Failure:
    """Rate limits, 5xx, timeouts and dropped connections are transient; the rest is not."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return Failure(f"timed out after {timeout_s:g}s" if timeout_s else "timed out", True)
    status = _status(exc)
    name = type(exc).__name__
    reason = f"{name}{f' {status}' if status else ''}: {_message(exc)}"
    if name == "Timeout" and timeout_s:
        return Failure(f"timed out after {timeout_s:g}s", True)
    if status == 429:
        return Failure(reason, True, retry_after_seconds(exc))
    if status in _RETRYABLE_STATUS or (status is not None and status >= 500):
        return Failure(reason, True, retry_after_seconds(exc))
    if status is None and name in _TRANSIENT_NAMES:
        return Failure(reason, True)
    return Failure(reason, False)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def _message(exc: BaseException, limit: int = 300) -> str:
    text = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    # litellm prefixes "litellm.RateLimitError: RateLimitError: OpenAIException - ".
    text = text.split(" - ", 1)[-1] if "Exception - " in text else text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def retry_after_seconds(exc: BaseException) -> float | None:
    """The provider's Retry-After, from the headers litellm keeps on its exceptions."""
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(exc, "headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ):
        value = _header(headers, "retry-after-ms")
        if value is not None:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                pass
        value = _header(headers, "retry-after")
        if value is not None:
            seconds = _parse_retry_after(value)
            if seconds is not None:
                return seconds
    return None


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    try:
        value = headers.get(name)
        if value is None and isinstance(headers, dict):
            value = next((v for k, v in headers.items() if k.lower() == name), None)
    except Exception:
        return None
    return str(value) if value is not None else None


def _parse_retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)  # the HTTP-date form
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries spread out."""
    ceiling = min(max_s, base_s * (2**attempt))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
