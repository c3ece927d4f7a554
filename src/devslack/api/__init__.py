"""Web API method registry. Each handler gets a Request and returns the success dict
(without ``ok``) or raises ApiError with Slack's error code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

if TYPE_CHECKING:
    from ..workspace import Workspace


class ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


@dataclass
class Request:
    ws: "Workspace"
    method: str
    params: dict[str, Any]
    token: str

    def get(self, key: str, default: Any = None) -> Any:
        value = self.params.get(key)
        return default if value is None or value == "" else value

    def require(self, key: str, error: str) -> Any:
        value = self.get(key)
        if value is None:
            raise ApiError(error)
        return value

    def json(self, key: str, error: str = "invalid_arguments") -> Any:
        """A param that may arrive as JSON text (form bodies) or already decoded (JSON bodies)."""
        value = self.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(error) from None
        return value

    def flag(self, key: str) -> bool:
        return str(self.get(key, "")).lower() in ("1", "true")

    def int(self, key: str, default: int) -> int:
        try:
            return int(self.get(key, default))
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments") from None


Handler = Callable[[Request], Awaitable[dict]]
# method -> (handler, token kind: "bot" or "app")
METHODS: dict[str, tuple[Handler, str]] = {}


def method(name: str, token: str = "bot") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name] = (fn, token)
        return fn
    return register


def paginate(items: list, req: Request, default_limit: int = 100) -> tuple[list, dict]:
    """Cursor pagination like Slack (cursor is an opaque offset; empty next_cursor at the end)."""
    limit = req.int("limit", default_limit) or default_limit
    cursor = req.get("cursor", "")
    start = int(cursor.removeprefix("dXNlcjo")) if cursor.startswith("dXNlcjo") else 0
    page = items[start : start + limit]
    nxt = f"dXNlcjo{start + limit}" if start + limit < len(items) else ""
    return page, {"next_cursor": nxt}


def load_all() -> None:
    from . import chat, conversations, directory, files, platform, views  # noqa: F401  (registers methods)
