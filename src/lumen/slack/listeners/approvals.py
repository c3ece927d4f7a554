"""Approve and Reject: ack at once; one conditional update decides who won.

A click is checked in a read session first (who may approve can take a Slack lookup,
which must not run inside a write transaction), then resolved in one transaction that
also queues what the clicker and the channel see.

Both buttons check the clicker before anything else: a non-approver is told so at once,
an approver gets a modal (confirm, or give a reason) and decides by submitting it. Slack's
own `confirm` dialog cannot do that: it is the same for everyone and shows before Lumen
hears of the click. A click in App Home is answered in App Home, which is published again.
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
from lumen.render.approvals import (
    APPROVE_ACTION,
    APPROVE_MODAL,
    REASON_BLOCK,
    REASON_INPUT,
    REJECT_ACTION,
    REJECT_MODAL,
    ApprovalCard,
    approve_modal,
    reject_modal,
)
from lumen.slack import payloads
from lumen.slack.direct_writes import open_modal
from lumen.slack.listeners import ack_first
from lumen.slack.listeners.events import publish_home

log = get_logger(__name__)


def _metadata(view: dict[str, Any]) -> tuple[int, str | None, bool] | None:
    """(approval id, channel, from App Home) from a modal's private_metadata; None if unreadable."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):
        return None
    if not isinstance(meta, dict) or (approval_id := payloads.positive_id(meta.get("approval_id"))) is None:
        return None
    channel = meta.get("channel_id")
    return approval_id, channel if isinstance(channel, str) else None, meta.get("home") is True


def register(app: AsyncApp, c: Container) -> None:
    async def decide(
        approval_id: int, user: str, channel: str | None, stamp: str, *, approve: bool,
        reason: str | None = None, home: bool = False,
    ) -> service.ClickResult:
        """Check, then resolve. The clicker hears back where they clicked: an ephemeral note in
        the channel, or their App Home published again with the note on top."""
        async with c.db.sessions() as session:
            refusal = await service.check(session, c.directory, approval_id, user)
        async with c.db.transaction() as session:
            result = refusal or await service.resolve(session, approval_id, user, approve=approve, reason=reason)
            title = await _title(session, approval_id) if home else None
            if not home and (result.changed or approve):
                await service.tell_clicker(session, result, user, channel, stamp)
        if home:
            await publish_home(c, user, f"home:{user}:click:{approval_id}:{stamp}", _home_note(result, title))
        c.signals.outbox.notify()
        if result.kind == "resolved":
            c.signals.runs.notify()
        return result

    async def refused_or_card(click: payloads.ButtonClick) -> ApprovalCard | None:
        """The card to confirm, for an approver; anyone else is told why not, and gets None."""
        async with c.db.sessions() as session:
            refusal = await service.check(session, c.directory, click.number or 0, click.user_id)
            card = None if refusal else await service.card_of(session, click.number or 0)
        if refusal is None and card is not None:
            return card
        result = refusal or service.ClickResult(kind="not_found", approval_id=click.number or 0)
        if click.in_home:
            note = messages.click_refused(result.kind, result.status, result.resolved_by, result.resolved_at, result.tz)
            await publish_home(c, click.user_id, f"home:{click.user_id}:refused:{result.approval_id}:{click.action_ts}", note)
        else:
            async with c.db.transaction() as session:
                await service.tell_clicker(session, result, click.user_id, click.channel_id, click.action_ts)
            c.signals.outbox.notify()
        return None

    async def open_confirmation(body: dict[str, Any], client: AsyncWebClient, *, approve: bool) -> None:
        click = payloads.button_click(body)
        if click is None or click.number is None or not click.trigger_id:
            log.warning("lumen.slack.bad_click", action=APPROVE_ACTION if approve else REJECT_ACTION)
            return
        card = await refused_or_card(click)
        if card is None:
            return
        view = approve_modal(card) if approve else reject_modal(card)
        view["private_metadata"] = json.dumps(
            {"approval_id": click.number, "channel_id": click.channel_id, "home": click.in_home}
        )
        await open_modal(client, click.trigger_id, view)

    async def on_approve(body: dict[str, Any], client: AsyncWebClient) -> None:
        await open_confirmation(body, client, approve=True)

    async def on_reject(body: dict[str, Any], client: AsyncWebClient) -> None:
        await open_confirmation(body, client, approve=False)

    async def on_approve_submitted(body: dict[str, Any]) -> None:
        """The modal closes at the ack, like the click it confirms; the outcome arrives as the
        message's update (for everyone) or a note (for the clicker)."""
        view = body.get("view") or {}
        meta = _metadata(view)
        if meta is None:
            log.warning("lumen.slack.bad_view", callback_id=APPROVE_MODAL)
            return
        approval_id, channel, home = meta
        user = payloads.user_id(body)
        if user is None:
            log.warning("lumen.slack.bad_view", callback_id=APPROVE_MODAL)
            return
        await decide(approval_id, user, channel, view.get("id", ""), approve=True, home=home)

    async def on_reject_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = payloads.view_input(view.get("state", {}).get("values", {}), REASON_BLOCK, REASON_INPUT) or ""
        if len(reason) < 3:
            await ack(response_action="errors", errors={REASON_BLOCK: messages.reason_required()})
            return
        meta, user = _metadata(view), payloads.user_id(body)
        if meta is None or user is None:
            log.warning("lumen.slack.bad_view", callback_id=REJECT_MODAL)
            await ack(response_action="errors", errors={REASON_BLOCK: messages.approval_missing()})
            return
        approval_id, channel, home = meta
        # Deciding before the ack lets a losing click see why inside the modal; it is one short transaction.
        result = await decide(approval_id, user, channel, view.get("id", ""), approve=False, reason=reason, home=home)
        if result.changed:
            await ack()
            return
        text = messages.click_refused(result.kind, result.status, result.resolved_by, result.resolved_at, result.tz)
        await ack(response_action="errors", errors={REASON_BLOCK: text})

    app.action(APPROVE_ACTION)(ack_first(on_approve, c.inflight))
    app.action(REJECT_ACTION)(ack_first(on_reject, c.inflight))
    app.view(APPROVE_MODAL)(ack_first(on_approve_submitted, c.inflight))
    app.view(REJECT_MODAL)(on_reject_submitted)


async def _title(session: Any, approval_id: int) -> str | None:
    card = await service.card_of(session, approval_id)
    return card.title if card else None


def _home_note(result: service.ClickResult, title: str | None) -> str:
    if result.kind == "resolved":
        return messages.you_decided(result.status == "approved", title or f"approval #{result.approval_id}")
    if result.kind == "voted" and result.tally is not None:
        return messages.vote_recorded(result.tally.approvals, result.tally.quorum)
    return messages.click_refused(result.kind, result.status, result.resolved_by, result.resolved_at, result.tz)
