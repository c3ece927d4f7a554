"""The `lumen` command.

Imports stay inside the commands: `lumen --help` must answer at once, and
litellm alone takes seconds to import.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click


def _settings(*, server: bool = False, **overrides: Any):  # -> lumen.settings.Settings
    from lumen.errors import LumenError
    from lumen.log import configure_logging
    from lumen.settings import load_settings

    try:
        settings = load_settings(**overrides)
    except LumenError as exc:
        click.echo(f"lumen: {exc}", err=True)
        sys.exit(2)
    if not server:
        settings = _dev_database_here(settings)
    # One-shot commands print their answer; their logs stay out of the way unless asked for.
    level = settings.log_level or ("info" if server else "warning")
    configure_logging(level, settings.log_format)
    return settings


def _dev_database_here(settings):  # type: ignore[no-untyped-def]
    """In the folder where `lumen dev` runs, with no database chosen: read lumen dev's own.

    Says so on stderr, with the variable that chooses another, so the answer below it is
    never silently about the wrong database.
    """
    from lumen.devmode import DEV_DATABASE, dev_database_url
    from lumen.settings import DEFAULT_DATABASE_URL

    if settings.chose("database_url") or not DEV_DATABASE.exists():
        return settings
    default_file = Path(DEFAULT_DATABASE_URL.split("///", 1)[1])
    if default_file.exists():  # an operator's own database here wins; say how to read the other
        click.echo(
            f"lumen: reading {default_file}; for lumen dev's, set LUMEN_DATABASE_URL={dev_database_url()}", err=True
        )
        return settings
    click.echo(f"lumen: reading lumen dev's database {DEV_DATABASE} (set LUMEN_DATABASE_URL to read another)", err=True)
    update: dict[str, Any] = {"database_url": dev_database_url()}
    if not settings.chose("offline_simulated_prices"):
        update["offline_simulated_prices"] = True  # as lumen dev prices the offline model
    return settings.model_copy(update=update)


def _config(settings):  # type: ignore[no-untyped-def]  # -> LumenConfig
    """The ventures file: lumen dev's when reading its database, else LUMEN_CONFIG (./lumen.yml)."""
    from lumen.config import load_config
    from lumen.devmode import dev_config, is_dev_database
    from lumen.errors import ConfigError

    if is_dev_database(settings):
        return dev_config(settings)[0]
    if not settings.chose("config_path") and not settings.config_path.exists():
        raise ConfigError(
            f"{settings.config_path}: no such file, so there are no ventures to read. Either point "
            "LUMEN_CONFIG at your lumen.yml and LUMEN_DATABASE_URL at its database (default "
            "sqlite+aiosqlite:///lumen.db), run `lumen init` to write an example here, or run this "
            "from the folder where `lumen dev` runs, to read its database (.lumen/dev.db)."
        )
    return load_config(settings.config_path)


async def _prepare(settings):  # type: ignore[no-untyped-def]  # -> Container
    from lumen.runtime import prepare

    return await prepare(settings, _config(settings))


def _run(coro: Any) -> Any:
    """Run a coroutine; show expected failures as one readable line, not a traceback."""
    from lumen.errors import LumenError

    try:
        return asyncio.run(coro)
    except LumenError as exc:
        click.echo(f"lumen: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lumen")
def main() -> None:
    """Lumen: AI agents run your ventures in the background; you approve what matters, in Slack."""


@main.command()
@click.option("--path", type=click.Path(path_type=Path), default=Path("lumen.yml"), show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented example lumen.yml with two ventures."""
    from importlib.resources import files

    if path.exists() and not force:
        click.echo(f"lumen: {path} already exists; use --force to overwrite it.", err=True)
        sys.exit(2)
    text = files("lumen").joinpath("templates/lumen.example.yml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {path}. Edit it, then run `lumen sync` (or `lumen dev` to try it locally).")


@main.command()
@click.option("--prune", is_flag=True, help="Archive every venture even if lumen.yml lists none (an empty file archives nothing without it).")
def sync(prune: bool) -> None:
    """Apply lumen.yml to the database (idempotent)."""
    settings = _settings()

    async def go() -> None:
        from lumen.db.migrate import upgrade
        from lumen.db.session import Database
        from lumen.ventures.sync import sync_config

        config = _config(settings)
        db = await Database.open(settings.database_url)
        try:
            await upgrade(db.engine)
            async with db.transaction() as session:
                report = await sync_config(session, config, prune=prune)
        finally:
            await db.dispose()
        for line in report.lines():
            click.echo(line)

    _run(go())


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database (LUMEN_DATABASE_URL) to the latest schema."""
    settings = _settings()

    async def go() -> None:
        from lumen.db.migrate import current_revision, upgrade
        from lumen.db.session import Database

        database = await Database.open(settings.database_url)
        try:
            await upgrade(database.engine, revision)
            click.echo(f"database at revision {await current_revision(database.engine)}")
        finally:
            await database.dispose()

    _run(go())


@main.command()
@click.option("--port", type=int, default=None, help="Overrides LUMEN_PORT (default 3000).")
@click.option("--host", default=None, help="Overrides LUMEN_HOST (default 0.0.0.0).")
def serve(port: int | None, host: str | None) -> None:
    """Run Lumen against a real Slack workspace (HTTP, or Socket Mode with SLACK_APP_TOKEN)."""
    settings = _settings(server=True, port=port, host=host)
    from lumen.runtime import serve as run_serve

    _run(run_serve(settings))


@main.command()
@click.option("--port", type=int, default=None, help="The app's port (default LUMEN_PORT, 3000).")
@click.option("--workspace-port", type=int, default=None, help="The dev workspace's port (default: the app's + 1).")
@click.option("--socket-mode", is_flag=True, help="Connect the app over Socket Mode instead of HTTP.")
@click.option("--no-demo", is_flag=True, help="Start without the demo ventures' history.")
@click.option(
    "--fresh", is_flag=True,
    help="Start over: forget the dev database and workspace (.lumen/) that earlier runs kept.",
)
def dev(port: int | None, workspace_port: int | None, socket_mode: bool, no_demo: bool, fresh: bool) -> None:
    """Run Lumen with a local dev workspace and the offline model: no Slack, no LLM key.

    The workspace (channels, messages, users) and the database are kept in .lumen/ across
    restarts; --fresh starts over.
    """
    settings = _settings(server=True, port=port, host="127.0.0.1")
    from lumen.devmode import run_dev

    _run(
        run_dev(
            settings,
            workspace_port=workspace_port,
            socket_mode=socket_mode,
            demo=not no_demo,
            fresh=fresh,
        )
    )


@main.command()
@click.argument("venture", required=False)
def status(venture: str | None) -> None:
    """What each venture is doing, as /lumen status shows it."""
    settings = _settings()

    async def go() -> None:
        from lumen.render.status import status_table
        from lumen.ventures.status import venture_status

        c = await _prepare(settings)
        try:
            async with c.db.sessions() as session:
                report = await venture_status(session, venture_ref=venture, workspace_tz=c.workspace_tz)
        finally:
            await c.db.dispose()
        click.echo(status_table(report))

    _run(go())


@main.command()
@click.argument("venture", required=False)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON, for a spreadsheet or a finance tool.")
@click.option(
    "--chart", "chart_path", type=click.Path(dir_okay=False, writable=True), default=None,
    help="Also write the chart of spend per day against budget, with its forecast, to this PNG file.",
)
def costs(venture: str | None, as_json: bool, chart_path: str | None) -> None:
    """Spend this month (UTC) by venture, agent, purpose and model; unit costs; projections."""
    settings = _settings()

    async def go() -> None:
        import json

        from lumen.costs.service import costs_report, wake_pricing
        from lumen.db.base import utcnow
        from lumen.render.costs import costs_json, costs_table

        c = await _prepare(settings)
        try:
            async with c.db.sessions() as session:
                report = await costs_report(session, venture, utcnow(), c.gateway.ledger.platform, wake_pricing(c.gateway, c.settings.context_tokens))
        finally:
            await c.db.dispose()
        click.echo(json.dumps(costs_json(report), indent=2) if as_json else costs_table(report))
        if chart_path and report.chart is not None:
            from pathlib import Path

            from lumen.render.charts import spend_chart

            Path(chart_path).write_bytes(spend_chart(report.chart))
            if not as_json:
                click.echo(f"\nchart: {chart_path}")

    _run(go())


async def _run_here(c, run_id: int) -> str:  # type: ignore[no-untyped-def]
    """Claim a queued run and run it in this process; return its trail."""
    from lumen.audit.service import show_run
    from lumen.runtime import run_now

    await run_now(c, run_id)
    async with c.db.sessions() as session:
        return await show_run(session, run_id)


@main.command()
@click.argument("venture")
@click.argument("role")
@click.option("--queue", is_flag=True, help="Only queue the run for a running `lumen serve` to pick up.")
@click.option("--force", is_flag=True, help="Wake it even though it is paused (recorded on the run).")
@click.option("--estimate", is_flag=True, help="Only say what a wake-up is expected to cost; wake nobody.")
@click.option("--json", "as_json", is_flag=True, help="With --estimate: the estimate as JSON.")
def wake(venture: str, role: str, queue: bool, force: bool, estimate: bool, as_json: bool) -> None:
    """Wake an agent now, as /lumen wake does. Runs here unless --queue; --estimate only prices
    it. A paused agent is woken only with --force."""
    settings = _settings()
    if estimate:
        _run(_estimate_wake(settings, venture, role, as_json))
        return

    async def go() -> None:
        from lumen.agents import service as agents

        c = await _prepare(settings)
        try:
            async with c.db.transaction() as session:
                woken = await agents.wake(session, venture, role, requested_by="cli", force=force)
            click.echo(f"queued run #{woken.run_id} for {woken.venture}/{woken.role}")
            if not queue:
                click.echo(await _run_here(c, woken.run_id))
                click.echo("Slack posts are in the outbox; a running `lumen serve` delivers them.")
        finally:
            await c.db.dispose()

    _run(go())


async def _estimate_wake(settings, venture: str, role: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    import json

    from lumen.costs.service import estimate_wake, wake_pricing
    from lumen.db.base import utcnow
    from lumen.render.costs import wake_estimate_json, wake_estimate_text

    c = await _prepare(settings)
    try:
        async with c.db.sessions() as session:
            found = await estimate_wake(session, venture, role, wake_pricing(c.gateway, c.settings.context_tokens), utcnow())
    finally:
        await c.db.dispose()
    click.echo(json.dumps(wake_estimate_json(found), indent=2) if as_json else wake_estimate_text(found))


def _pause_command(paused: bool):  # type: ignore[no-untyped-def]
    verb = "pause" if paused else "resume"

    @click.argument("venture")
    @click.argument("role", required=False)
    def command(venture: str, role: str | None) -> None:
        settings = _settings()

        async def go() -> None:
            from lumen.agents import service as agents

            c = await _prepare(settings)
            try:
                async with c.db.transaction() as session:
                    found, changed = await agents.set_paused(session, venture, role, paused=paused, by="cli")
            finally:
                await c.db.dispose()
            done = "paused" if paused else "resumed"
            click.echo(f"{done} {found.slug}: {', '.join(changed)}" if changed else f"nothing to {verb}")

        _run(go())

    command.__doc__ = f"{verb.capitalize()} a venture's agents, or one of them."
    return main.command(name=verb)(command)


pause = _pause_command(True)
resume = _pause_command(False)


@main.group()
def runs() -> None:
    """The audit trail: every run, step by step."""


def _with_session(work):  # type: ignore[no-untyped-def]
    settings = _settings()

    async def go():  # type: ignore[no-untyped-def]
        c = await _prepare(settings)
        try:
            async with c.db.sessions() as session:
                return await work(session, c.workspace_tz)
        finally:
            await c.db.dispose()

    return _run(go())


@runs.command("list")
@click.option("--venture", help="Only this venture's runs (slug).")
@click.option("--status", help="Only runs in this status (queued, running, failed, …).")
@click.option("--limit", type=int, default=20, show_default=True)
def runs_list(venture: str | None, status: str | None, limit: int) -> None:
    """The latest runs, newest first."""
    from lumen.audit.service import list_runs, runs_table

    async def listed(session, tz: str) -> str:  # type: ignore[no-untyped-def]
        rows = await list_runs(session, venture=venture, status=status, limit=limit)
        return runs_table(rows, tz) if rows else "no runs yet"

    click.echo(_with_session(listed))


@runs.command("show")
@click.argument("run_id", type=int)
def runs_show(run_id: int) -> None:
    """Every step of a run: prompt, response, tool call, cost, latency, state changes."""
    from lumen.audit.service import show_run

    click.echo(_with_session(lambda s, tz: show_run(s, run_id)))


@runs.command("diff")
@click.argument("a", type=int)
@click.argument("b", type=int)
def runs_diff(a: int, b: int) -> None:
    """How two runs differed: inputs, models and decisions."""
    from lumen.audit.service import diff_runs

    click.echo(_with_session(lambda s, tz: diff_runs(s, a, b)))


@runs.command("replay")
@click.argument("run_id", type=int)
@click.option("--model", help="Replay with this litellm model instead of the agent's tier.")
def runs_replay(run_id: int, model: str | None) -> None:
    """Run again from the same inputs, posting nothing to Slack."""
    settings = _settings()

    async def go() -> str:
        from lumen.audit.service import create_replay
        from lumen.runtime import run_now

        c = await _prepare(settings)
        try:
            async with c.db.transaction() as session:
                new_id = await create_replay(session, run_id, model)
            click.echo(f"replaying run #{run_id} as run #{new_id}")
            status = await run_now(c, new_id)
            async with c.db.sessions() as session:
                click.echo(await show_run(session, new_id))
        finally:
            await c.db.dispose()
        return getattr(status, "value", str(status))

    from lumen.audit.service import show_run

    status = _run(go())
    if status != "succeeded":
        # Scripts check the exit code: a replay that did not finish is a failure to report.
        click.echo(f"lumen: replay of run #{run_id} ended {status}; see the error above.", err=True)
        sys.exit(1)


@main.command()
@click.argument("decision_id", type=int)
@click.argument("verdict", type=click.Choice(["success", "failure", "mixed", "unknown"]))
@click.option("--metric", help="What was measured, e.g. MRR.")
@click.option("--before", type=float, help="The metric before the decision.")
@click.option("--after", type=float, help="The metric after it.")
@click.option("--note", help="Anything worth remembering.")
@click.option("--by", "reported_by", default="cli", show_default=True, help="Who reports it.")
@click.option("--replace", is_flag=True, help="Supersede an existing outcome (the old one is kept).")
def outcome(decision_id: int, verdict: str, metric, before, after, note, reported_by: str, replace: bool) -> None:  # type: ignore[no-untyped-def]
    """Record what a decision led to."""
    settings = _settings()

    async def go() -> None:
        from lumen.agents.service import limits_from, record_outcome
        from lumen.brain.service import OutcomeReport

        c = await _prepare(settings)
        try:
            report = OutcomeReport(
                decision_id=decision_id, verdict=verdict, metric=metric, before=before, after=after,
                note=note, reported_by=reported_by, replace=replace,
            )
            async with c.db.transaction() as session:
                recorded = await record_outcome(session, report, source="cli", limits=limits_from(c.settings))
        finally:
            await c.db.dispose()
        extra = f", superseding outcome #{recorded.superseded}" if recorded.superseded else ""
        click.echo(f"recorded outcome #{recorded.outcome_id} for decision #{decision_id}{extra}")

    _run(go())


@main.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--as-user", help="Answer as this Slack user would see it (private ventures hidden).")
@click.option("--channel", help="Answer as if asked in this channel ID.")
@click.option("--all", "show_all", is_flag=True, help="List every decision that answers it, not only the first page.")
@click.option("--now", "now_text", metavar="TIMESTAMP",
              help="Answer as if asked at this moment (ISO 8601, e.g. 2026-06-17 or 2026-06-17T11:00; "
                   "without an offset, in the workspace's time zone): the same question gives the same answer.")
def ask(question: tuple[str, ...], as_user: str | None, channel: str | None, show_all: bool, now_text: str | None) -> None:
    """Ask about the ventures' history, e.g. lumen ask what did Acme try last quarter?"""
    settings = _settings()

    async def go() -> None:
        from lumen.ask.service import answer_question

        c = await _prepare(settings)
        try:
            now = _moment(now_text, c.workspace_tz) if now_text else None
            answer = await answer_question(
                c.db.sessions,
                c.gateway,
                c.directory,
                " ".join(question),
                tz=c.workspace_tz,
                user_id=as_user,
                channel_id=channel,
                now=now,
                operator=as_user is None and channel is None,
                show_all=show_all,
                routing=c.config.workspace.routing,
            )
        finally:
            await c.db.dispose()
        click.echo(_plain(answer.text))
        if answer.cited:
            click.echo("\ncited: " + ", ".join(f"#{i}" for i in answer.cited))
        if answer.rest:
            click.echo(f"\n{len(answer.rest)} more answer this: add --all to list them.")
        footer = answer.blocks[-1]["elements"][0]["text"] if answer.blocks else ""
        click.echo(_plain(footer))

    _run(go())


def _moment(value: str, tz: str):  # type: ignore[no-untyped-def]
    """--now: an ISO date or date-time; without an offset it is the workspace's local time."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time (e.g. 2026-06-17T11:00)", param_hint="--now") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(timezone.utc)


def _plain(mrkdwn: str) -> str:
    """Slack mrkdwn for a terminal: links as their labels, entities unescaped."""
    import re

    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2", mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@main.group()
def brain() -> None:
    """Ventures' brains: versioned knowledge, rebuilt weekly."""


@brain.command("show")
@click.argument("venture")
@click.argument("version", type=int, required=False)
def brain_show(venture: str, version: int | None) -> None:
    """A venture's brain, the latest version or version N."""
    from lumen.brain.service import brain_view
    from lumen.render.brain import SECTION_TITLES
    from lumen.render.common import clock

    async def shown(session, tz: str):  # type: ignore[no-untyped-def]
        return await brain_view(session, venture, version), tz

    view, tz = _with_session(shown)
    click.echo(f"{view.venture_name} · brain v{view.version} (latest v{view.latest_version}) · built {clock(view.created_at, tz, '%Y-%m-%d %H:%M')}")
    if view.summary:
        click.echo(view.summary)
    for key, title in SECTION_TITLES.items():
        click.echo(f"\n{title}")
        for statement in view.sections.get(key, []) or [{"text": "(nothing yet)", "decision_ids": []}]:
            cites = ", ".join(f"#{i}" for i in statement["decision_ids"])
            click.echo(f"  • {statement['text']}" + (f"  [{cites}]" if cites else ""))


@brain.command("diff")
@click.argument("venture")
@click.argument("a", type=int)
@click.argument("b", type=int)
def brain_diff_command(venture: str, a: int, b: int) -> None:
    """What changed between brain versions A and B."""
    from lumen.brain.service import brain_diff

    diff = _with_session(lambda s, tz: brain_diff(s, venture, a, b))
    click.echo("\n".join(diff.lines()) or f"v{a} and v{b} say the same")


@brain.command("synthesize")
@click.argument("venture")
@click.option("--model", help="Use this litellm model instead of the strong tier.")
def brain_synthesize(venture: str, model: str | None) -> None:
    """Build the venture's next brain version now, from what happened since the last one."""
    settings = _settings()

    async def go() -> None:
        import uuid

        from lumen.db.models import RunKind, RunTrigger
        from lumen.engine import runs as run_queue
        from lumen.ventures.service import find_venture

        c = await _prepare(settings)
        try:
            async with c.db.transaction() as session:
                found = await find_venture(session, venture)
                run_id = await run_queue.enqueue_new(
                    session,
                    key=f"synthesis:{found.slug}:manual:{uuid.uuid4().hex}",
                    trigger=RunTrigger.MANUAL,
                    kind=RunKind.SYNTHESIS,
                    venture_id=found.id,
                    model_override=model,
                )
            click.echo(await _run_here(c, run_id))
        finally:
            await c.db.dispose()

    _run(go())


if __name__ == "__main__":
    main()
