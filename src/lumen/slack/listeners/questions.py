"""Answering an agent's question (`ask_human`): an option's button, or "Answer…" and a modal.

Every click acks at once. The clicker is checked in a read session first (who may answer can
take a Slack lookup), before anything else: a non-approver is told so and nothing changes.
Then one conditional UPDATE decides which answer counts; a later or concurrent one is told who
answered. The message changes for everyone through the outbox; a click in App Home is answered
in App Home, which is published again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from lumen.approvals import questions
from lumen.container import Container
from lumen.log import get_logger
from lumen.render.questions import (
    ANSWER_ACTION,
    ANSWER_BLOCK,
    ANSWER_INPUT,
    ANSWER_MODAL,
    OPTION_ACTION,
    answer_modal,
    answer_required,
    parse_option_value,
    question_missing,
    you_answered,
)
from lumen.slack import payloads
from lumen.slack.direct_writes import open_modal
from lumen.slack.listeners import ack_first
from lumen.slack.listeners.events import publish_home

log = get_logger(__name__)

OPTION_ACTIONS = re.compile(rf"^{OPTION_ACTION}_\d{{1,2}}$")


def _metadata(view: dict[str, Any]) -> tuple[int, str | None, bool] | None:
    """(question id, channel, from App Home) from the modal's private_metadata; None if unreadable."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):
        return None
    if not isinstance(meta, dict) or (question_id := payloads.positive_id(meta.get("question_id"))) is None:
        return None
    channel = meta.get("channel_id")
    return question_id, channel if isinstance(channel, str) else None, meta.get("home") is True


def register(app: AsyncApp, c: Container) -> None:
    async def tell(user: str, channel: str | None, home: bool, text: str, key: str) -> None:
        """What the clicker alone sees: an ephemeral note, or their App Home with the note on top."""
        if home:
            await publish_home(c, user, f"home:{user}:{key}", text)
            return
        async with c.db.transaction() as session:
            await questions.tell_answerer(session, text, key, user, channel)
        c.signals.outbox.notify()

    async def give(question_id: int, user: str, channel: str | None, home: bool, stamp: str, text: str) -> questions.AnswerResult:
        """Answer, for someone `check` let through: a loser is told who answered, a win re-queues the run."""
        async with c.db.transaction() as session:
            result = await questions.answer(session, question_id, user, text)
        key = f"question:{question_id}:note:{user}:{stamp}"
        if result.changed:
            c.signals.outbox.notify()
            c.signals.runs.notify()
            if home:
                await tell(user, channel, home, you_answered(text), key)
        else:
            await tell(user, channel, home, result.refusal(), key)
        return result

    async def on_option(body: dict[str, Any]) -> None:
        click = payloads.button_click(body)
        parsed = parse_option_value(click.value) if click is not None else None
        question_id = payloads.positive_id(parsed[0]) if parsed is not None else None
        if click is None or parsed is None or question_id is None:
            log.warning("lumen.slack.bad_click", action=OPTION_ACTION)
            return
        async with c.db.sessions() as session:
            refusal = await questions.check(session, c.directory, question_id, click.user_id)
            card = None if refusal else await questions.card_of(session, question_id)
        option = questions.option_of(card, parsed[1]) if card is not None else None
        stamp = click.action_ts or click.message_ts or ""
        if refusal is not None or option is None:
            text = refusal.refusal() if refusal is not None else question_missing()
            await tell(click.user_id, click.channel_id, click.in_home, text, f"question:{question_id}:note:{click.user_id}:{stamp}")
            return
        await give(question_id, click.user_id, click.channel_id, click.in_home, stamp, option)

    async def on_answer_clicked(body: dict[str, Any], client: AsyncWebClient) -> None:
        click = payloads.button_click(body)
        if click is None or click.number is None or not click.trigger_id:
            log.warning("lumen.slack.bad_click", action=ANSWER_ACTION)
            return
        async with c.db.sessions() as session:
            refusal = await questions.check(session, c.directory, click.number, click.user_id)
            card = None if refusal else await questions.card_of(session, click.number)
        if refusal is not None or card is None:
            text = refusal.refusal() if refusal is not None else question_missing()
            stamp = click.action_ts or click.message_ts or ""
            await tell(click.user_id, click.channel_id, click.in_home, text, f"question:{click.number}:note:{click.user_id}:{stamp}")
            return
        view = answer_modal(card)
        view["private_metadata"] = json.dumps({"question_id": click.number, "channel_id": click.channel_id, "home": click.in_home})
        await open_modal(client, click.trigger_id, view)

    async def on_answer_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = payloads.view_input(view.get("state", {}).get("values", {}), ANSWER_BLOCK, ANSWER_INPUT) or ""
        if not text:
            await ack(response_action="errors", errors={ANSWER_BLOCK: answer_required()})
            return
        meta, user = _metadata(view), payloads.user_id(body)
        if meta is None or user is None:
            log.warning("lumen.slack.bad_view", callback_id=ANSWER_MODAL)
            await ack(response_action="errors", errors={ANSWER_BLOCK: question_missing()})
            return
        question_id, channel, home = meta
        # Answering before the ack lets a losing answer see why inside the modal; one short transaction.
        async with c.db.sessions() as session:
            refusal = await questions.check(session, c.directory, question_id, user)
        if refusal is not None:
            await ack(response_action="errors", errors={ANSWER_BLOCK: refusal.refusal()})
            return
        async with c.db.transaction() as session:
            result = await questions.answer(session, question_id, user, text[:1000])
        if not result.changed:
            await ack(response_action="errors", errors={ANSWER_BLOCK: result.refusal()})
            return
        await ack()
        c.signals.outbox.notify()
        c.signals.runs.notify()
        if home:
            c.inflight.spawn(
                publish_home(c, user, f"home:{user}:question:{question_id}:{view.get('id', '')}", you_answered(text)),
                name="lumen-listener:question-home",
            )

    app.action(OPTION_ACTIONS)(ack_first(on_option, c.inflight))
    app.action(ANSWER_ACTION)(ack_first(on_answer_clicked, c.inflight))
    app.view(ANSWER_MODAL)(on_answer_submitted)
