"""A click racing the expiry sweep: one of them wins, never both, and the run resumes once.

Each round leaves a fresh gate whose deadline is set to about now; then an approver's click
(a real signed request to the replica) and a burst of sweeps run at the same time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import update

from lumen.approvals.tasks import SweepReport, sweep
from lumen.db.base import utcnow
from lumen.db.models import Approval, ApprovalStatus, Decision, DecisionStatus, Run, RunStatus
from tests.approvals.conftest import StackOpener
from tests.approvals.support import (
    approve,
    get,
    many_gates_config,
    notes,
    steps,
    votes,
    wait_run,
    wake_gate,
)

ROUNDS = 20
# Deadline relative to the click: well past, right at it, a little after, well after.
OFFSETS = [-1.0, -0.01, 0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 3600.0]


async def _sweeping(stack, seconds: float = 0.15) -> list[SweepReport]:  # type: ignore[no-untyped-def]
    reports = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        reports.append(await sweep(stack.container.db, stack.container.directory))
        await asyncio.sleep(0.002)
    return reports


async def test_a_click_racing_expiry_ends_in_exactly_one_outcome(open_stack: StackOpener) -> None:
    async with open_stack(many_gates_config(ROUNDS + 5)) as stack:
        ws, db = stack.workspace, stack.container.db
        outcomes: Counter[str] = Counter()
        for round_ in range(ROUNDS):
            gate = await wake_gate(stack)
            offset = OFFSETS[round_ % len(OFFSETS)]
            async with db.transaction() as session:
                await session.execute(
                    update(Approval)
                    .where(Approval.id == gate.approval_id)
                    .values(expires_at=utcnow() + timedelta(seconds=offset))
                )
            told_before = len(notes(ws, gate.channel_id, "U0ALICE"))
            click, reports = await asyncio.gather(
                approve(ws, "U0ALICE", gate.channel_id, gate.ts), _sweeping(stack)
            )
            assert click.status == 200
            stack.container.signals.runs.notify()
            stack.replica.outbox.notify()

            run = await wait_run(db, gate.run_id, RunStatus.SUCCEEDED, RunStatus.FAILED)
            approval = await get(db, Approval, gate.approval_id)
            decision = await get(db, Decision, gate.decision_id)
            expired_by_sweep = sum(r.expired.count(gate.approval_id) for r in reports)
            where = f"round {round_} (deadline {offset:+} s): {approval.status.value}"

            assert run.status == RunStatus.SUCCEEDED, where
            assert approval.status in (ApprovalStatus.APPROVED, ApprovalStatus.EXPIRED), where
            if approval.status == ApprovalStatus.APPROVED:
                assert expired_by_sweep == 0, where
                assert approval.resolved_by == "U0ALICE", where
                assert [v.user_id for v in await votes(db, gate.approval_id)] == ["U0ALICE"], where
                assert decision.status == DecisionStatus.EXECUTED, where
            else:
                # Expired once: by one of these sweeps, or (on a loaded machine, when the click came
                # after the burst) by the replica's own sweep; never twice.
                assert expired_by_sweep <= 1, where
                assert approval.resolved_by is None, where
                assert await votes(db, gate.approval_id) == [], where
                assert decision.status == DecisionStatus.EXPIRED, where
                told = await ws.wait_for(lambda: notes(ws, gate.channel_id, "U0ALICE")[told_before:], 5)
                assert "expired" in told[0].text, where  # the click lost and was told why
            outcomes[approval.status.value] += 1

            # One resume: a single gate step recording the winner, two claims in all.
            gate_steps = [s for s in await steps(db, gate.run_id) if s.name.startswith("gate:")]
            assert len(gate_steps) == 1 and gate_steps[0].output["status"] == approval.status.value, where
            assert ((await get(db, Run, gate.run_id)).epoch) == 2, where
            await ws.wait_for(lambda: [c for c in ws.calls_to("chat.update") if c.params.get("ts") == gate.ts], 5)

        # Let the last updates land, then: exactly one message update per gate, ever.
        await asyncio.sleep(0.3)
        per_message = Counter(c.params.get("ts") for c in ws.calls_to("chat.update"))
        assert set(per_message.values()) == {1}, per_message
        print("expiry race outcomes:", dict(outcomes))
        # The anchors (deadline long past / far away) make sure both outcomes were exercised.
        assert outcomes["approved"] >= 1 and outcomes["expired"] >= 1, outcomes
