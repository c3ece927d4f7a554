"""`/lumen …`: ack at once, answer through the response_url after the ack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.webhook.async_client import AsyncWebhookClient

from lumen.agents import control
from lumen.approvals.queries import pending_for
from lumen.brain.outcomes import OutcomeReport, record_outcome
from lumen.brain.views import brain_view
from lumen.engine import outbox
from lumen.db.base import utcnow
from lumen.domain.timeranges import month_start
from lumen.errors import LumenError
from lumen.ventures import repository
from lumen.log import get_logger
from lumen.services import Services
from lumen.slack.listeners import ack_first
from lumen.slack import messages
from lumen.slack.blocks.agents import agents_changed_text, budget_blocks
from lumen.slack.blocks.approvals import pending_list_blocks
from lumen.slack.blocks.brain import brain_blocks
from lumen.slack.blocks.help import help_blocks, help_text
from lumen.slack.blocks.status import status_blocks, status_text
from lumen.slack.commands import Command, parse_command
from lumen.slack.listeners.ask import answer_in_thread
from lumen.slack.metrics import COMMANDS
from lumen.ventures.status import StatusReport, venture_status

log = get_logger(__name__)

Handler = Callable[[Services, Command, dict[str, Any], AsyncRespond], Awaitable[None]]


async def _status(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    async def load() -> StatusReport:
        async with services.db.sessions() as session:
            return await venture_status(session, venture_ref=cmd.raw or None, workspace_tz=services.workspace_tz)

    report = await services.status_cache.get((cmd.raw.lower() or None, services.workspace_tz), load)
    await respond(text=status_text(report), blocks=status_blocks(report), response_type="ephemeral")


async def _help(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    unknown = None if cmd.name == "help" else cmd.name
    await respond(text=help_text(unknown), blocks=help_blocks(unknown), response_type="ephemeral")


async def _wake(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    if len(cmd.args) != 2:
        await respond(text="Usage: `/lumen wake <venture> <role>`", response_type="ephemeral")
        return
    async with services.db.transaction() as session:
        woken = await control.wake(session, cmd.args[0], cmd.args[1], requested_by=body["user_id"])
    services.run_queued()
    await respond(text=messages.woken(woken.venture, woken.role, woken.run_id), response_type="ephemeral")


async def _pause_or_resume(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    if not 1 <= len(cmd.args) <= 2:
        await respond(text=f"Usage: `/lumen {cmd.name} <venture> [role]`", response_type="ephemeral")
        return
    role = cmd.args[1] if len(cmd.args) == 2 else None
    async with services.db.transaction() as session:
        venture, changed = await control.set_paused(
            session, cmd.args[0], role, paused=cmd.name == "pause", by=body["user_id"]
        )
    verb = "paused" if cmd.name == "pause" else "resumed"
    if not changed:
        await respond(text=messages.nothing_to(verb, venture.name), response_type="ephemeral")
        return
    await respond(
        text=agents_changed_text(verb, venture.name, changed, body["user_id"]), response_type="in_channel"
    )


async def _approvals(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    async with services.db.sessions() as session:
        cards = await pending_for(session, services.directory, body["user_id"])
    await respond(
        text=f"{len(cards)} approval{'s' if len(cards) != 1 else ''} waiting for you",
        blocks=pending_list_blocks(cards, heading="Waiting for your approval"),
        response_type="ephemeral",
    )


async def _outcome(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    args = list(cmd.args)
    replace = "--replace" in args
    args = [a for a in args if a != "--replace"]
    if len(args) < 2 or not args[0].lstrip("#").isdigit():
        await respond(text="Usage: `/lumen outcome <decision> <success|failure|mixed> [note] [--replace]`", response_type="ephemeral")
        return
    report = OutcomeReport(
        decision_id=int(args[0].lstrip("#")),
        verdict=args[1],
        note=" ".join(args[2:]) or None,
        reported_by=body["user_id"],
        replace=replace,
    )
    async with services.db.transaction() as session:
        recorded = await record_outcome(session, report, source="slack")
    services.outbox_queued()
    superseded = f" (supersedes outcome #{recorded.superseded})" if recorded.superseded else ""
    await respond(
        text=f"Recorded outcome #{recorded.outcome_id} for decision #{recorded.decision_id}: {report.verdict}{superseded}.",
        response_type="ephemeral",
    )


async def _brain(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    if not cmd.args or len(cmd.args) > 2 or (len(cmd.args) == 2 and not cmd.args[1].lstrip("v").isdigit()):
        await respond(text="Usage: `/lumen brain <venture> [version]`", response_type="ephemeral")
        return
    version = int(cmd.args[1].lstrip("v")) if len(cmd.args) == 2 else None
    async with services.db.sessions() as session:
        view = await brain_view(session, cmd.args[0], version)
    await respond(text=f"{view.venture_name} brain v{view.version}", blocks=brain_blocks(view), response_type="ephemeral")


async def _ask(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    if len(cmd.raw) < 3:
        await respond(text="Usage: `/lumen ask <question>`, e.g. `/lumen ask what did Acme try last quarter?`", response_type="ephemeral")
        return
    key = f"ask:{body['channel_id']}:{body.get('trigger_id', body['user_id'])}"
    async with services.db.transaction() as session:
        # The question goes to the channel so the answer can sit in its thread.
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": body["channel_id"], "text": messages.asked_in_channel(body["user_id"], cmd.raw)},
            dedupe_key=f"{key}:question",
        )
    await answer_in_thread(
        services,
        services.gateway,
        cmd.raw,
        user_id=body["user_id"],
        channel_id=body["channel_id"],
        thread_of=f"{key}:question",
        key=key,
    )


async def _budget(services: Services, cmd: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    now = utcnow()
    async with services.db.sessions() as session:
        ventures = await repository.active_ventures(session)
        if cmd.raw:
            ventures = [await control.find_venture(session, cmd.raw)]
        spent = await repository.agent_spend_since(session, month_start(now, services.workspace_tz))
    rows = [
        (v.slug, a.role, a.status.value, spent.get(a.id, Decimal(0)), a.budget_usd_month)
        for v in ventures
        for a in v.agents
        if a.archived_at is None
    ]
    month = now.astimezone(ZoneInfo(services.workspace_tz)).strftime("%B %Y")
    await respond(text=f"Spend this month ({month})", blocks=budget_blocks(rows, month), response_type="ephemeral")


HANDLERS: dict[str, Handler] = {
    "budget": _budget,
    "ask": _ask,
    "outcome": _outcome,
    "brain": _brain,
    "approvals": _approvals,
    "status": _status,
    "help": _help,
    "wake": _wake,
    "pause": _pause_or_resume,
    "resume": _pause_or_resume,
}



def register(app: AsyncApp, services: Services) -> None:
    async def answer(body: dict[str, Any], respond: AsyncRespond) -> None:
        cmd = parse_command(body.get("text", ""))
        handler = HANDLERS.get(cmd.name, _help)
        COMMANDS.labels(subcommand=cmd.name if cmd.known else "unknown").inc()
        try:
            await handler(services, cmd, body, respond)
        except LumenError as exc:
            await respond(text=str(exc), response_type="ephemeral")
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            await respond(text=f"That didn't work: {reason}.", response_type="ephemeral")
        except Exception:
            log.exception("lumen.slack.command_failed", text=body.get("text"))
            await respond(text=messages.command_failed(), response_type="ephemeral")

    async def answer_through_pool(body: dict[str, Any]) -> None:
        await answer(body, responder(services, body["response_url"]))

    app.command("/lumen")(ack_first(answer_through_pool, services.inflight))


def responder(services: Services, url: str) -> AsyncRespond:
    """Bolt's respond(), but on the shared connection pool rather than a new client each time."""

    async def respond(**message: Any) -> None:
        client = AsyncWebhookClient(url, session=await services.http())
        response = await client.send(**message)
        if response.status_code != 200:
            log.warning("lumen.slack.response_url_failed", status=response.status_code, body=response.body[:200])

    return respond  # type: ignore[return-value]
