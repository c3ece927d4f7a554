"""What Lumen's modules log, recorded: each module's `log` replaced by a recorder.

structlog's own `capture_logs` cannot see loggers that were used before it (they cache
their configuration on first use, as `configure_logging` asks), so a test that asserts on
log lines records them at the source instead.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


class LogRecorder(list[dict[str, Any]]):
    def _record(self, level: str, event: str, **fields: Any) -> None:
        self.append({"event": event, "log_level": level, **fields})

    def debug(self, event: str, **fields: Any) -> None:
        self._record("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self._record("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._record("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self._record("error", event, **fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._record("error", event, exc_info=True, **fields)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self if entry["event"] == event]

    def tracebacks(self) -> list[dict[str, Any]]:
        return [entry for entry in self if entry.get("exc_info")]


def record_logs(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> LogRecorder:
    recorder = LogRecorder()
    for module in modules:
        monkeypatch.setattr(module, "log", recorder)
    return recorder
