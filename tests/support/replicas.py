"""Start, kill and restart replica processes (`tests.support.replica_process`)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from lumen.container import Container
from lumen.settings import Settings

ROOT = Path(__file__).parents[2]


def several_replicas_need_postgres(container: Container) -> None:
    """Replica processes share a database only on Postgres (README: one replica on SQLite)."""
    if container.db.dialect != "postgresql":
        pytest.skip("several replica processes share Postgres, not SQLite")


def replica_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of `lumen serve` for these settings (HTTP mode), plus test knobs."""
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "SLACK_BOT_TOKEN": settings.slack_bot_token or "",
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret or "",
        "SLACK_API_URL": settings.slack_api_url,
        "LUMEN_DATABASE_URL": settings.database_url,
        "LUMEN_CONFIG": str(settings.config_path),
        "LUMEN_MODEL_FAST": settings.model_fast,
        "LUMEN_MODEL_STRONG": settings.model_strong,
        **extra,
    }
    if settings.model_api_base:
        env["LUMEN_MODEL_API_BASE"] = settings.model_api_base
    env.pop("SLACK_APP_TOKEN", None)
    return env


class ReplicaProcess:
    """One replica process. `start` waits until it serves; `kill` is SIGKILL, `stop` SIGTERM."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name, self.env, self.logs = name, env, logs
        self.proc: asyncio.subprocess.Process | None = None
        self.url: str | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.logs / f"{self.name}.{self.starts}.log"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, timeout: float = 90) -> str:
        self.starts += 1
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.replica_process",
            cwd=ROOT, env=self.env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("wb"),
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise AssertionError(f"{self.name} died on start:\n{self.log.read_text()[-4000:]}")
        self.url = json.loads(line)["url"]
        return self.url

    async def kill(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self, timeout: float = 40) -> int | None:
        """SIGTERM, and wait for the graceful stop (SIGKILL after `timeout`)."""
        if not self.alive:
            return self.proc.returncode if self.proc else None
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.kill()
        return self.proc.returncode

    async def wait_dead(self, timeout: float = 30) -> None:
        if self.proc is not None:
            await asyncio.wait_for(self.proc.wait(), timeout)

    def events(self, event: str) -> list[dict]:
        """The JSON log records named `event`, over every start of this replica."""
        found = []
        for n in range(1, self.starts + 1):
            path = self.logs / f"{self.name}.{n}.log"
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if record.get("event") == event:
                        found.append(record)
        return found
