"""Record outcome: the button on executed decisions and its modal."""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from lumen.agents import service as agents
from lumen.brain import service as brain
from lumen.container import Container
from lumen.engine import outbox
from lumen.errors import LumenError, NotAllowed
from lumen.log import get_logger
from lumen.render.common import escape
from lumen.render.outcomes import OUTCOME_MODAL, RECORD_ACTION, outcome_modal
from lumen.slack import payloads
from lumen.slack.direct_writes import open_modal
from lumen.slack.listeners import ack_first
from lumen.ventures import service as ventures

log = get_logger(__name__)


def _number(values: dict[str, Any], block: str, errors: dict[str, str]) -> float | None:
    raw = payloads.view_input(values, block)
    if raw is None:
        return None
    try:
        number = float(raw.replace(",", ""))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # "nan", "inf" and "1e999" are floats to Python, not metrics
        errors[block] = "A number, please (like 1200 or 3.5)."
        return None
    return number


def register(app: AsyncApp, c: Container) -> None:
    async def open_form(body: dict[str, Any], client: AsyncWebClient) -> None:
        click = payloads.button_click(body)
        if click is None or click.number is None or not click.trigger_id:
            log.warning("lumen.slack.bad_click", action=RECORD_ACTION)
            return
        async with c.db.sessions() as session:
            venture = await ventures.venture_of_decision(
                session, click.number, c.directory, ventures.Reader(click.user_id, click.channel_id)
            )
            form = await brain.outcome_form(session, click.number) if venture is not None else None
        if venture is None or form is None:
            log.warning("lumen.slack.outcome_form_refused", decision_id=click.number, user=click.user_id)
            return
        try:
            await ventures.require(c.directory, c.config, venture, venture.name, venture.channel, click.user_id, "outcomes")
        except NotAllowed as refused:
            async with c.db.transaction() as session:
                await outbox.enqueue(
                    session, "chat.postEphemeral",
                    {"channel": click.channel_id, "user": click.user_id, "text": escape(str(refused))},
                    dedupe_key=f"outcome-refused:{click.number}:{click.user_id}:{click.action_ts}"[:200],
                )
            c.signals.outbox.notify()
            return
        await open_modal(client, click.trigger_id, outcome_modal(form.decision_id, form.title, form.existing, click.channel_id))

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = (view.get("private_metadata") or "").split("|")
        decision_id, replace, user = payloads.positive_id(meta[0]), meta[1:2] == ["1"], payloads.user_id(body)
        if decision_id is None or user is None:
            log.warning("lumen.slack.bad_view", callback_id=OUTCOME_MODAL)
            await ack(response_action="errors", errors={"verdict": "This form names no decision: close it and click Record outcome again."})
            return
        values = (view.get("state") or {}).get("values") or {}
        errors: dict[str, str] = {}
        before, after = _number(values, "before", errors), _number(values, "after", errors)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            report = brain.OutcomeReport(
                decision_id=decision_id,
                verdict=payloads.view_input(values, "verdict") or "",
                metric=payloads.view_input(values, "metric"),
                before=before,
                after=after,
                note=payloads.view_input(values, "note"),
                reported_by=user,
                replace=replace,
            )
            async with c.db.transaction() as session:
                await agents.record_outcome(session, report, source="slack", limits=agents.limits_from(c.settings))
            c.signals.runs.notify()
        except (ValidationError, ValueError) as exc:
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            await ack(response_action="errors", errors={"verdict": message.removeprefix("Value error, ")})
            return
        except LumenError as exc:
            await ack(response_action="errors", errors={"note": str(exc)[:150]})  # plain text in a modal
            return
        await ack()
        c.signals.outbox.notify()

    app.action(RECORD_ACTION)(ack_first(open_form, c.inflight))
    app.view(OUTCOME_MODAL)(on_submit)
