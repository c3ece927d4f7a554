"""Run kinds as handlers, registered by name: the engine runs them without importing them.

A handler is what one kind of run does (a wake-up, a synthesis). The composition root
registers one per `RunKind`; the worker claims a run, builds its `RunContext` and calls the
handler. What happens when a run fails (a circuit breaker, a budget pause) is the
handler's business too, told through `failed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Agent, Run, RunKind, RunStatus, Venture
from lumen.engine.journal import Journal
from lumen.errors import InternalError


@dataclass(frozen=True)
class RunContext:
    run: Run
    agent: Agent | None
    venture: Venture | None
    journal: Journal


@dataclass(frozen=True)
class Failure:
    """Why a run failed, as recorded on it; `error` is the expected error behind it, if any."""

    reason: str
    error: BaseException | None = None


class RunFailed(InternalError):
    """Raised by a handler: the run fails, and its message is the recorded reason."""


class Finished(BaseModel):
    """The closing note of a run that ended well."""

    status: str
    detail: str = ""


class FailedNote(BaseModel):
    reason: str


class RunHandler(Protocol):
    # Errors that fail the run with their own message as the reason, without a traceback.
    expected: tuple[type[BaseException], ...]

    async def execute(self, ctx: RunContext) -> RunStatus:
        """Walk the run's steps through `ctx.journal`; return how it ended (or paused)."""

    async def succeeded(self, session: AsyncSession, ctx: RunContext) -> None:
        """In the transaction that ends the run well."""

    async def failed(self, session: AsyncSession, run: Run, failure: Failure) -> None:
        """In the transaction that records the failure."""


# Told of every run's end (succeeded, paused at a gate, failed), in the transaction that
# records it: what happens next (a chained wake-up) commits with the end, or not at all.
RunEnded = Callable[[AsyncSession, Run, RunStatus], Awaitable[None]]


class Handlers:
    """The registry: one handler per run kind, and the hooks told of every run's end."""

    def __init__(self, handlers: Mapping[RunKind, RunHandler], ended: Sequence[RunEnded] = ()) -> None:
        self._handlers = dict(handlers)
        self.ended = tuple(ended)

    async def run_ended(self, session: AsyncSession, run: Run, status: RunStatus) -> None:
        for hook in self.ended:
            await hook(session, run, status)

    def for_kind(self, kind: RunKind) -> RunHandler:
        handler = self._handlers.get(kind)
        if handler is None:
            raise RunFailed(f"no handler is registered for {kind.value} runs")
        return handler

    def get(self, kind: RunKind) -> RunHandler | None:
        return self._handlers.get(kind)
