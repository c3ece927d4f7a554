"""Approve and Reject: ack at once; one conditional update decides who won.

A click is checked in a read session first (who may approve can take a Slack lookup,
which must not run inside a write transaction), then resolved in one transaction that
also queues what the clicker and the channel see.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from lumen.approvals import service
from lumen.container import Container
from lumen.log import get_logger
from lumen.render import messages
from lumen.render.approvals import APPROVE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_ACTION, REJECT_MODAL, reject_modal
from lumen.slack import payloads
from lumen.slack.direct_writes import open_modal
from lumen.slack.listeners import ack_first

log = get_logger(__name__)


def register(app: AsyncApp, c: Container) -> None:
    async def decide(
        approval_id: int, user: str, channel: str | None, stamp: str, *, approve: bool, reason: str | None = None
    ) -> service.ClickResult:
        """Check, then resolve; a refused button click is told why in an ephemeral note (a refused
        modal says why in the modal itself)."""
        async with c.db.sessions() as session:
            refusal = await service.check(session, c.directory, approval_id, user)
        async with c.db.transaction() as session:
            result = refusal or await service.resolve(session, approval_id, user, approve=approve, reason=reason)
            if result.changed or approve:
                await service.tell_clicker(session, result, user, channel, stamp)
        c.signals.outbox.notify()
        if result.kind == "resolved":
            c.signals.runs.notify()
        return result

    async def on_approve(body: dict[str, Any]) -> None:
        click = payloads.button_click(body)
        if click is None or click.number is None:
            log.warning("lumen.slack.bad_click", action=APPROVE_ACTION)
            return
        await decide(click.number, click.user_id, click.channel_id, click.action_ts, approve=True)

    async def on_reject(body: dict[str, Any], client: AsyncWebClient) -> None:
        click = payloads.button_click(body)
        if click is None or click.number is None or not click.trigger_id:
            log.warning("lumen.slack.bad_click", action=REJECT_ACTION)
            return
        async with c.db.sessions() as session:
            refusal = await service.check(session, c.directory, click.number, click.user_id)
            card = None if refusal else await service.card_of(session, click.number)
        if refusal is not None or card is None:
            result = refusal or service.ClickResult(kind="not_found", approval_id=click.number)
            async with c.db.transaction() as session:
                await service.tell_clicker(session, result, click.user_id, click.channel_id, click.action_ts)
            c.signals.outbox.notify()
            return
        view = reject_modal(card)
        view["private_metadata"] = json.dumps({"approval_id": click.number, "channel_id": click.channel_id})
        await open_modal(client, click.trigger_id, view)

    async def on_reject_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = payloads.view_input(view.get("state", {}).get("values", {}), REASON_BLOCK, REASON_INPUT) or ""
        if len(reason) < 3:
            await ack(response_action="errors", errors={REASON_BLOCK: messages.reason_required()})
            return
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            approval_id = int(meta["approval_id"])
        except (ValueError, TypeError, KeyError):
            await ack(response_action="errors", errors={REASON_BLOCK: messages.approval_missing()})
            return
        user = body["user"]["id"]
        # Deciding before the ack lets a losing click see why inside the modal; it is one short transaction.
        result = await decide(approval_id, user, meta.get("channel_id"), view.get("id", ""), approve=False, reason=reason)
        if result.changed:
            await ack()
            return
        text = messages.click_refused(result.kind, result.status, result.resolved_by, result.resolved_at)
        await ack(response_action="errors", errors={REASON_BLOCK: text})

    app.action(APPROVE_ACTION)(ack_first(on_approve, c.inflight))
    app.action(REJECT_ACTION)(ack_first(on_reject, c.inflight))
    app.view(REJECT_MODAL)(on_reject_submitted)
