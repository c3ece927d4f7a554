"""Helpers for the approval tests: configs, gates, polling the database, clicking from outside.

A *gate* is what a wake-up leaves behind when its decision needs a human: an
Approval row, its message in the venture's channel, and the run paused as
`awaiting_approval`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from sqlalchemy import func, select

from lumen.config import LumenConfig, parse_config
from lumen.db.models import (
    Approval,
    ApprovalVote,
    OutboxMessage,
    OutboxStatus,
    Run,
    RunStatus,
    Spend,
    Step,
)
from lumen.db.session import Database
from lumen.devmode import DevStack
from devslack import Message, Workspace
from devslack import payloads
from devslack.delivery import INTERACTIVE, Deliverer, Delivery
from devslack.actions import find_element
from devslack.ids import TsClock
from tests.conftest import EXAMPLE_CONFIG

T = TypeVar("T")
_ACTION_CLOCK = TsClock()

FAST_RETRIES = (0.05, 0.05, 0.05)
APPROVE, REJECT = "approval_approve", "approval_reject"
APPROVE_MODAL = "approval_approve_modal"


# --- configs ------------------------------------------------------------------------------


def demo_dict() -> dict[str, Any]:
    """The bundled demo lumen.yml as a dict, to change and parse again."""
    return copy.deepcopy(yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8")))


def to_config(data: dict[str, Any], source: str = "test lumen.yml") -> LumenConfig:
    return parse_config(yaml.safe_dump(data, sort_keys=False), source=source)


def venture(data: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(v for v in data["ventures"] if v["slug"] == slug)


def gated_playbook(count: int, category: str = "pricing_change", prefix: str = "Price test") -> list[dict[str, Any]]:
    """`count` distinct actions that all need a human."""
    return [
        {
            "title": f"{prefix} {i:03d}",
            "category": category,
            "rationale": f"Experiment {i} on the price page.",
            "expected_effect": "+1% conversion",
        }
        for i in range(count)
    ]


def many_gates_yaml(count: int, **gates: Any) -> str:
    """The demo lumen.yml, with acme's playbook replaced by `count` gated pricing changes.

    Every wake-up of acme's ceo proposes one of them (concurrent wake-ups may pick the same),
    so N wake-ups leave N gates. The agents' schedules never fire during a test (1 January).
    """
    data = demo_dict()
    data["gates"].update(gates)
    for v in data["ventures"]:
        for agent in v["agents"]:
            agent["schedule"] = "0 0 1 1 *"
    venture(data, "acme")["playbook"] = gated_playbook(count)
    return yaml.safe_dump(data, sort_keys=False)


def many_gates_config(count: int, **gates: Any) -> LumenConfig:
    return parse_config(many_gates_yaml(count, **gates), source="test lumen.yml")


# --- waiting ---------------------------------------------------------------------------


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 10.0, interval: float = 0.02, what: str = "") -> T:
    """Await `probe()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what or getattr(probe, '__name__', probe)} (last: {value!r})")
        await asyncio.sleep(interval)


async def get(db: Database, model: type[T], ident: int) -> T:
    async with db.sessions() as session:
        row = await session.get(model, ident)
    assert row is not None, f"no {model.__name__} {ident}"
    return row


async def run_status(db: Database, run_id: int) -> RunStatus:
    return (await get(db, Run, run_id)).status


async def wait_run(db: Database, run_id: int, *statuses: RunStatus, timeout: float = 15.0) -> Run:
    async def probe() -> Run | None:
        run = await get(db, Run, run_id)
        return run if run.status in statuses else None

    return await eventually(probe, timeout, what=f"run {run_id} in {statuses}")


async def steps(db: Database, run_id: int) -> list[Step]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.seq))).all())


async def votes(db: Database, approval_id: int) -> list[ApprovalVote]:
    async with db.sessions() as session:
        return list(
            (await session.scalars(select(ApprovalVote).where(ApprovalVote.approval_id == approval_id))).all()
        )


async def spend_rows(db: Database, run_id: int) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).where(Spend.run_id == run_id)) or 0)


async def outbox_idle(db: Database, timeout: float = 10.0) -> None:
    """Wait until every queued Slack call has been delivered (or given up)."""

    async def probe() -> bool:
        async with db.sessions() as session:
            pending = await session.scalar(
                select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        return pending == 0

    await eventually(probe, timeout, what="outbox drained")


async def outbox_sent(db: Database, dedupe_key: str, timeout: float = 10.0) -> OutboxMessage:
    async def probe() -> OutboxMessage | None:
        async with db.sessions() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        return row if row is not None and row.status == OutboxStatus.SENT else None

    return await eventually(probe, timeout, what=f"outbox {dedupe_key} sent")


# --- gates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    approval_id: int
    decision_id: int
    run_id: int
    channel_id: str
    ts: str

    def message(self, ws: Workspace) -> Message:
        msg = ws.find_message(self.channel_id, self.ts)
        assert msg is not None, f"approval message {self.ts} is gone"
        return msg


async def approval_ids(db: Database) -> set[int]:
    async with db.sessions() as session:
        return set((await session.scalars(select(Approval.id))).all())


async def new_gates(db: Database, seen: set[int], count: int, timeout: float = 20.0) -> list[Gate]:
    """Wait for `count` approvals not in `seen` whose message is posted and whose run has paused."""

    async def probe() -> list[Gate] | None:
        async with db.sessions() as session:
            rows = (
                await session.execute(
                    select(Approval, Run.status)
                    .join(Run, Run.id == Approval.run_id)
                    .where(Approval.message_ts.is_not(None))
                    .order_by(Approval.id)
                )
            ).all()
        ready = [
            Gate(a.id, a.decision_id, a.run_id, a.channel_id, a.message_ts)
            for a, status in rows
            if a.id not in seen and status == RunStatus.AWAITING_APPROVAL
        ]
        return ready if len(ready) >= count else None

    return await eventually(probe, timeout, what=f"{count} gated decisions posted and paused")


async def wake_gate(stack: DevStack, venture_slug: str = "acme", role: str = "ceo", user: str = "U0ALICE") -> Gate:
    """`/lumen wake …` in the venture's channel; wait for its approval message and the paused run."""
    ws, db = stack.workspace, stack.container.db
    config = stack.container.config.venture(venture_slug)
    assert config is not None
    seen = await approval_ids(db)
    delivery = await ws.slash_command(user, config.channel, "/lumen", f"wake {venture_slug} {role}")
    assert delivery.status == 200, (delivery.status, delivery.body)
    (gate,) = await new_gates(db, seen, 1)
    return gate


# --- approving as a person does -----------------------------------------------------------


async def approve(ws: Workspace, user_id: str, channel_id: str, ts: str, *, timeout: float = 10.0) -> Delivery:
    """Click Approve… and, when the confirmation modal opens (the clicker is an approver and
    the gate still open), confirm it. Returns the confirmation's delivery, or the click's when
    Lumen refused the click with a note instead of a modal."""
    told = len(notes(ws, channel_id, user_id))
    click = await ws.click(user_id, channel_id, ts, APPROVE)

    def answered() -> Any:
        modal = ws.current_modal(user_id)
        if modal is not None and modal.definition.get("callback_id") == APPROVE_MODAL:
            return modal
        return notes(ws, channel_id, user_id)[told:] or None

    answer = await ws.wait_for(answered, timeout)
    if isinstance(answer, list):
        return click
    return await ws.submit_view(user_id, answer.id)


async def approve_in_home(ws: Workspace, user_id: str, home_view_id: str, *, timeout: float = 10.0) -> Delivery:
    """Click Approve… in App Home and confirm in the modal it opens."""
    await ws.click_in_view(user_id, home_view_id, APPROVE)
    modal = await ws.wait_for(
        lambda: (m := ws.current_modal(user_id)) is not None and m.definition.get("callback_id") == APPROVE_MODAL and m,
        timeout,
    )
    return await ws.submit_view(user_id, modal.id)


# --- clicking from outside the workspace's own delivery -----------------------------------


def confirm_payload(ws: Workspace, user_id: str, gate: "Gate") -> dict[str, Any]:
    """The view_submission Slack sends when `user_id` confirms the Approve modal of `gate`.

    Built directly (as `click_payload` builds a click), so that a test can send hundreds of
    confirmations at once without first opening hundreds of modals; it carries what Lumen's
    modal carries: its callback id and private_metadata.
    """
    user = ws._user(user_id)
    view = ws._new_view(user.id, {
        "type": "modal",
        "callback_id": APPROVE_MODAL,
        "title": {"type": "plain_text", "text": "Approve decision"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "private_metadata": json.dumps({"approval_id": gate.approval_id, "channel_id": gate.channel_id, "home": False}),
        "blocks": [],
    })
    payload = payloads.interaction_base(ws, "view_submission", user, ws.triggers.issue(user.id))
    payload.update(view=view.to_slack(), response_urls=[])
    return payload


def click_payload(ws: Workspace, user_id: str, channel_id: str, ts: str, action_id: str) -> dict[str, Any]:
    """The block_actions payload Slack sends when `user_id` clicks `action_id` in message `ts`
    (what `Workspace.click` builds, without sending it)."""
    user, channel = ws._user(user_id), ws._channel(channel_id)
    msg = ws.find_message(channel.id, ts)
    assert msg is not None, f"no message {ts} in {channel_id}"
    block_id, element = find_element(msg.blocks, action_id)
    trigger = ws.triggers.issue(user.id)
    ru = ws.response_urls.issue(user.id, channel.id, source_ts=msg.ts)
    payload = payloads.interaction_base(ws, "block_actions", user, trigger)
    payload.update(
        container={"type": "message", "message_ts": msg.ts, "channel_id": channel.id, "is_ephemeral": False},
        channel={"id": channel.id, "name": channel.name},
        message=msg.to_slack(),
        state={"values": {}},
        response_url=ws.response_url_for(ru.token),
        actions=[payloads.block_action(element, block_id, None)],
    )
    # Slack's action_ts tells two clicks apart; the dev workspace's (time.time() to the
    # microsecond) does not when a test builds hundreds of payloads in one loop.
    payload["actions"][0]["action_ts"] = _ACTION_CLOCK.next()
    return payload


class _Aimed:
    """The workspace, seen by a Deliverer, with another request URL: Slack signing and ack
    timing exactly as the workspace does them, sent to one replica of our choice."""

    def __init__(self, ws: Workspace, request_url: str) -> None:
        self._ws = ws
        self.request_url = request_url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


class Clicker:
    """Signed interaction deliveries to several replicas' /slack/events."""

    def __init__(self, ws: Workspace, urls: list[str]) -> None:
        self.ws = ws
        self.deliverers = [Deliverer(_Aimed(ws, url)) for url in urls]  # type: ignore[arg-type]

    async def send(self, replica: int, payload: dict[str, Any]) -> Delivery:
        return await self.deliverers[replica % len(self.deliverers)].deliver(INTERACTIVE, payload, retry=False)

    async def close(self) -> None:
        for deliverer in self.deliverers:
            await deliverer.close()


def notes(ws: Workspace, channel_id: str, user: str) -> list[Message]:
    """The ephemeral messages `user` has seen in the channel, oldest first."""
    return ws.ephemeral_messages(channel_id, user)


async def next_note(ws: Workspace, channel_id: str, user: str, before: int, timeout: float = 5.0) -> Message:
    """The first ephemeral message `user` gets after the first `before` ones."""
    fresh = await ws.wait_for(lambda: notes(ws, channel_id, user)[before:], timeout)
    return fresh[0]
