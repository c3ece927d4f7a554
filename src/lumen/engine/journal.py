"""The run's journal: every step with its input, output, cost and latency.

It is the audit trail and the checkpoint at once. A run taken over after a
crash walks the same steps again; a step already in the journal returns its
recorded output instead of running, so no model call is paid twice and no
message is posted twice.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Step, StepKind
from lumen.db.session import Database
from lumen.engine.runs import Claim, fence
from lumen.errors import LumenError


class JournalMismatch(LumenError):
    """A replay reached a step that differs from the recorded one."""


@dataclass
class StepResult:
    output: dict[str, Any]
    cost_usd: Decimal = Decimal(0)
    input: dict[str, Any] = field(default_factory=dict)


# Writes that must commit together with the step (a decision and its outbox post, say).
Effect = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


@dataclass
class _Unwritten:
    """A deferred step: its row is built after its effect ran, as the effect may add to it."""

    build: Callable[[], Step]
    effect: Effect | None
    output: dict[str, Any]
    run_values: dict[str, Any]


class Journal:
    def __init__(self, db: Database, claim: Claim, recorded: list[Step]) -> None:
        self.db = db
        self.claim = claim
        self._recorded = {step.seq: step for step in recorded}
        self._seq = 0
        self.closing: tuple[str, dict[str, Any]] | None = None
        # Deferred steps not yet written.
        self._unwritten: list[_Unwritten] = []

    @classmethod
    async def load(cls, db: Database, claim: Claim) -> Journal:
        async with db.sessions() as session:
            steps = (
                await session.scalars(select(Step).where(Step.run_id == claim.run_id).order_by(Step.seq))
            ).all()
        return cls(db, claim, list(steps))

    @property
    def replaying(self) -> bool:
        return self._seq + 1 in self._recorded

    def next_is_recorded(self) -> bool:
        """Will the next step come from the journal rather than run?"""
        return self._seq + 1 in self._recorded

    async def step(
        self,
        kind: StepKind,
        name: str,
        action: Callable[[], Awaitable[StepResult]],
        *,
        effect: Effect | None = None,
        input: dict[str, Any] | None = None,
        run_values: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        deferred: bool = False,
    ) -> dict[str, Any]:
        """Run `action` once per run, ever; commit its output (and `effect`) under the fence.

        `run_values(output)` gives columns of the run to set in the fencing UPDATE itself.

        A `deferred` step is written, effect and all, in the transaction of the next step that
        is not, of `flush()`, or of the run's end: a transaction less per step. Only steps that
        are cheap and safe to run again may be deferred (a read, or one derived from recorded
        outputs): if the worker dies first, they run again on takeover, and nothing after them
        can have been recorded.
        """
        self._seq += 1
        seq = self._seq
        recorded = self._recorded.get(seq)
        if recorded is not None:
            if (recorded.kind, recorded.name) != (kind, name):
                raise JournalMismatch(
                    f"run {self.claim.run_id} step {seq}: journal has {recorded.kind.value} "
                    f"{recorded.name!r}, replay reached {kind.value} {name!r}"
                )
            return recorded.output
        started = time.perf_counter()
        result = await action()
        latency_ms = int((time.perf_counter() - started) * 1000)

        def written() -> Step:
            return Step(
                run_id=self.claim.run_id,
                seq=seq,
                kind=kind,
                name=name,
                input=input if input is not None else result.input,
                output=result.output,
                cost_usd=result.cost_usd,
                latency_ms=latency_ms,
                epoch=self.claim.epoch,
            )

        values = run_values(result.output) if run_values else {}
        if clash := set(values) & set(self.unwritten_values):
            # Two UPDATE values for one column: the second would silently replace the first.
            raise RuntimeError(f"deferred steps both set {sorted(clash)}; flush() between them")
        self._unwritten.append(_Unwritten(written, effect, result.output, values))
        if not deferred:
            await self.flush()
        self._recorded[seq] = Step(seq=seq, kind=kind, name=name, output=result.output)
        return result.output

    def finish_with(self, name: str, output: dict[str, Any]) -> None:
        """The closing note, written by the worker in the transaction that ends the run."""
        self.closing = (name, output)

    async def flush(self) -> None:
        """Write the deferred steps now, in a fenced transaction of their own."""
        if not self._unwritten:
            return
        async with self.db.transaction() as session:
            await fence(session, self.claim, **self.unwritten_values)
            await self.write_unwritten(session, closing=False)

    @property
    def unwritten_values(self) -> dict[str, Any]:
        """The run columns the deferred steps set; the caller's fenced UPDATE sets them."""
        return self.values_of(effects=True)

    def values_of(self, *, effects: bool) -> dict[str, Any]:
        """The run columns of the deferred steps `write_unwritten(effects=…)` would write."""
        values: dict[str, Any] = {}
        for item in self._unwritten:
            if item.effect is not None and not effects:
                break
            values |= item.run_values
        return values

    async def write_unwritten(self, session: AsyncSession, *, closing: bool = True, effects: bool = True) -> None:
        """Write the deferred steps with their effects, then (if `closing`) the closing note,
        in the caller's transaction, which must be fenced. With `effects=False`, writing stops
        at the first step with an effect (a failing run records what it read, not what it
        would have done).
        """
        unwritten, self._unwritten = self._unwritten, []
        for item in unwritten:
            if item.effect is not None:
                if not effects:
                    break  # and what follows it: the written steps stay a gapless prefix
                # The effect goes first: it may add to the output (a decision's id, say), and
                # a query inside it would otherwise autoflush the step without that addition.
                await item.effect(session, item.output)
            session.add(item.build())
        if closing and self.closing is not None:
            name, output = self.closing
            session.add(
                Step(
                    run_id=self.claim.run_id,
                    seq=self._seq + 1,
                    kind=StepKind.STATE,
                    name=name,
                    output=output,
                    epoch=self.claim.epoch,
                )
            )

    async def note(self, kind: StepKind, name: str, output: dict[str, Any]) -> dict[str, Any]:
        """A step with nothing to run: a state change or a marker in the trail."""

        async def action() -> StepResult:
            return StepResult(output=output)

        return await self.step(kind, name, action)
