"""Record outcome: the button on executed decisions, its modal, and /lumen outcome."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from lumen.brain.outcomes import OutcomeReport, record_outcome
from lumen.db.models import Decision, Outcome
from lumen.errors import LumenError
from lumen.services import Services
from lumen.slack.listeners import ack_first
from lumen.slack.blocks.outcomes import OUTCOME_MODAL, RECORD_ACTION, outcome_modal


def _value(values: dict[str, Any], block: str) -> str | None:
    element = values.get(block, {}).get(block, {})
    if element.get("type") == "static_select":
        return (element.get("selected_option") or {}).get("value")
    return (element.get("value") or "").strip() or None


def _number(values: dict[str, Any], block: str, errors: dict[str, str]) -> float | None:
    raw = _value(values, block)
    if raw is None:
        return None
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        errors[block] = "A number, please (like 1200 or 3.5)."
        return None


def register(app: AsyncApp, services: Services) -> None:

    async def open_modal(body: dict[str, Any], client: AsyncWebClient) -> None:
        decision_id = int(body["actions"][0]["value"])
        async with services.db.sessions() as session:
            decision = await session.get(Decision, decision_id)
            existing = await session.scalar(
                select(Outcome).where(Outcome.decision_id == decision_id).order_by(Outcome.id.desc()).limit(1)
            )
        if decision is None:
            return
        note = f"Outcome #{existing.id} already says {existing.verdict.value}." if existing else None
        channel = (body.get("channel") or {}).get("id")
        await client.views_open(trigger_id=body["trigger_id"], view=outcome_modal(decision.id, decision.title, note, channel))

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        decision_id, replace, _channel = view["private_metadata"].split("|")
        values = view["state"]["values"]
        errors: dict[str, str] = {}
        before, after = _number(values, "before", errors), _number(values, "after", errors)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            report = OutcomeReport(
                decision_id=int(decision_id),
                verdict=_value(values, "verdict") or "",
                metric=_value(values, "metric"),
                before=before,
                after=after,
                note=_value(values, "note"),
                reported_by=body["user"]["id"],
                replace=replace == "1",
            )
            async with services.db.transaction() as session:
                await record_outcome(session, report, source="slack")
        except ValidationError as exc:
            await ack(response_action="errors", errors={"verdict": exc.errors()[0]["msg"].removeprefix("Value error, ")})
            return
        except LumenError as exc:
            await ack(response_action="errors", errors={"note": str(exc)[:150]})
            return
        await ack()
        services.outbox_queued()

    app.action(RECORD_ACTION)(ack_first(open_modal, services.inflight))
    app.view(OUTCOME_MODAL)(on_submit)
