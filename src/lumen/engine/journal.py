"""The run's journal: every step with its input, output, cost and latency.

It is the audit trail and the checkpoint at once. A run taken over after a
crash walks the same steps again; a step already in the journal returns its
recorded output instead of running, so no model call is paid twice and no
message is posted twice.

Every step's output is a pydantic model, stored as its JSON: a replay reads it back
through the same model, so a step's shape is written down once, where it is made.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.models import Step, StepKind
from lumen.db.session import Database
from lumen.engine.runs import Claim, fence
from lumen.errors import InternalError, Invariant

O = TypeVar("O", bound=BaseModel)


class JournalMismatch(InternalError):
    """A replay reached a step that differs from the recorded one."""


@dataclass
class StepResult(Generic[O]):
    output: O
    cost_usd: Decimal = Decimal(0)
    # What the step was given, for the trail (a model call's messages). Stored once, here.
    input: dict[str, Any] = field(default_factory=dict)


# Writes that must commit together with the step (a decision and its outbox post, say).
# The effect may fill in the output (the decision's id) before it is stored.
Effect = Callable[[AsyncSession, O], Awaitable[None]]


@dataclass
class _Unwritten:
    """A deferred step: its row is built after its effect ran, as the effect may add to it."""

    build: Callable[[], Step]
    effect: Callable[[AsyncSession], Awaitable[None]] | None
    run_values: dict[str, Any]


class Journal:
    def __init__(self, db: Database, claim: Claim, recorded: list[Step]) -> None:
        self.db = db
        self.claim = claim
        self._recorded = {step.seq: step for step in recorded}
        self._seq = 0
        self.closing: tuple[str, BaseModel] | None = None
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
        return self.next_is_recorded()

    def next_is_recorded(self) -> bool:
        """Will the next step come from the journal rather than run?"""
        return self._seq + 1 in self._recorded

    def next_recorded(self) -> str | None:
        """The name of the next step, when it comes from the journal: a step whose shape depends
        on lumen.yml (routing) follows what was recorded, not what the file says today."""
        step = self._recorded.get(self._seq + 1)
        return step.name if step is not None else None

    async def step(
        self,
        kind: StepKind,
        name: str,
        action: Callable[[], Awaitable[StepResult[O]]],
        output_type: type[O],
        *,
        effect: Effect[O] | None = None,
        run_values: Callable[[O], dict[str, Any]] | None = None,
        deferred: bool = False,
    ) -> O:
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
            return output_type.model_validate(recorded.output)
        started = time.perf_counter()
        result = await action()
        latency_ms = int((time.perf_counter() - started) * 1000)
        output = result.output
        if not isinstance(output, output_type):
            raise Invariant(f"step {name!r} returned {type(output).__name__}, not {output_type.__name__}")

        def written() -> Step:
            return Step(
                run_id=self.claim.run_id,
                seq=seq,
                kind=kind,
                name=name,
                input=result.input,
                output=output.model_dump(mode="json"),
                cost_usd=result.cost_usd,
                latency_ms=latency_ms,
                epoch=self.claim.epoch,
            )

        values = run_values(output) if run_values else {}
        if clash := set(values) & set(self.unwritten_values):
            # Two UPDATE values for one column: the second would silently replace the first.
            raise Invariant(f"deferred steps both set {sorted(clash)}; flush() between them")
        bound = None if effect is None else (lambda session: effect(session, output))
        self._unwritten.append(_Unwritten(written, bound, values))
        if not deferred:
            await self.flush()
        self._recorded[seq] = Step(seq=seq, kind=kind, name=name, output=output.model_dump(mode="json"))
        return output

    async def note(self, kind: StepKind, name: str, output: O) -> O:
        """A step with nothing to run: a state change or a marker in the trail."""

        async def action() -> StepResult[O]:
            return StepResult(output=output)

        return await self.step(kind, name, action, type(output))

    def finish_with(self, name: str, output: BaseModel) -> None:
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
                await item.effect(session)
            session.add(item.build())
        if closing and self.closing is not None:
            name, output = self.closing
            session.add(
                Step(
                    run_id=self.claim.run_id,
                    seq=self._seq + 1,
                    kind=StepKind.STATE,
                    name=name,
                    output=output.model_dump(mode="json"),
                    epoch=self.claim.epoch,
                )
            )
