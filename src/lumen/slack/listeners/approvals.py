"""Approve and Reject: ack at once; one conditional update decides who won.

views.open is called directly rather than through the outbox: a trigger_id
lives three seconds, and opening a modal changes nothing we must not lose.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from lumen.approvals import service
from lumen.approvals.directory import ApproverDirectory
from lumen.approvals.messages import approval_card, queue_pending_update
from lumen.db.models import Approval
from lumen.engine import outbox
from lumen.log import get_logger
from lumen.services import Services
from lumen.slack.listeners import ack_first
from lumen.slack import messages
from lumen.slack.blocks.approvals import (
    APPROVE_ACTION,
    REASON_BLOCK,
    REASON_INPUT,
    REJECT_ACTION,
    REJECT_MODAL,
    reject_modal,
)

log = get_logger(__name__)


async def tell_user(services: Services, user_id: str, channel_id: str | None, text: str, key: str) -> None:
    """An ephemeral note in the channel the click came from, or a DM (App Home has no channel)."""
    async with services.db.transaction() as session:
        if channel_id:
            await outbox.enqueue(
                session, "chat.postEphemeral", {"channel": channel_id, "user": user_id, "text": text}, dedupe_key=key
            )
        else:
            await outbox.enqueue(session, "chat.postMessage", {"channel": user_id, "text": text}, dedupe_key=key)
    services.outbox_queued()


def refusal_text(result: service.ClickResult) -> str:
    if result.kind == "already":
        return messages.already_decided(result.status, result.resolved_by, result.resolved_at)
    if result.kind == "not_approver":
        return messages.not_an_approver()
    if result.kind == "expired":
        return messages.approval_expired()
    return messages.approval_missing()


def _channel_of(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def register(app: AsyncApp, services: Services, directory: ApproverDirectory) -> None:

    async def on_approve(body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body["user"]["id"]
        result = await service.resolve(services.db, directory, int(action["value"]), user, approve=True)
        await _after(result, user, _channel_of(body), action.get("action_ts", ""))

    async def _after(result: service.ClickResult, user: str, channel: str | None, stamp: str) -> None:
        key = f"approval:{result.approval_id}:note:{user}:{stamp}"
        if result.kind == "resolved":
            services.outbox_queued()
            services.run_queued()
        elif result.kind == "voted":
            async with services.db.transaction() as session:
                approval = await session.get(Approval, result.approval_id)
                assert approval is not None
                await queue_pending_update(session, approval, f"approval:{approval.id}:vote:{user}")
            tally = result.tally
            assert tally is not None
            await tell_user(services, user, channel, messages.vote_recorded(tally.approvals, tally.quorum), key)
        else:
            await tell_user(services, user, channel, refusal_text(result), key)

    async def on_reject(body: dict[str, Any], client: AsyncWebClient) -> None:
        action = body["actions"][0]
        user = body["user"]["id"]
        approval_id = int(action["value"])
        refusal = await service.may_resolve(services.db, directory, approval_id, user)
        if refusal is not None:
            await tell_user(services, user, _channel_of(body), refusal_text(refusal), f"approval:{approval_id}:note:{user}:{action.get('action_ts', '')}")
            return
        async with services.db.sessions() as session:
            approval = await session.get(Approval, approval_id)
            assert approval is not None
            card = await approval_card(session, approval)
        view = reject_modal(card)
        view["private_metadata"] = json.dumps({"approval_id": approval_id, "channel_id": _channel_of(body)})
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_reject_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = (
            view["state"]["values"].get(REASON_BLOCK, {}).get(REASON_INPUT, {}).get("value") or ""
        ).strip()
        if len(reason) < 3:
            await ack(response_action="errors", errors={REASON_BLOCK: messages.reason_required()})
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        user = body["user"]["id"]
        # Deciding before the ack lets a losing click see why inside the modal; it is one short transaction.
        result = await service.resolve(
            services.db, directory, int(meta["approval_id"]), user, approve=False, reason=reason
        )
        if result.kind in ("resolved", "voted"):
            await ack()
            after = _after(result, user, meta.get("channel_id"), view.get("id", ""))
            services.inflight.spawn(after, name="lumen-listener:rejected")
            return
        await ack(response_action="errors", errors={REASON_BLOCK: refusal_text(result)})

    app.action(APPROVE_ACTION)(ack_first(on_approve, services.inflight))
    app.action(REJECT_ACTION)(ack_first(on_reject, services.inflight))
    app.view(REJECT_MODAL)(on_reject_submitted)
