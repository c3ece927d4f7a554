"""HTTP for machines: `POST /api/outcomes` for other systems, and `/healthz`, `/readyz`, `/metrics`.

`/readyz` answers 503 while the database or Slack cannot be reached, or Slack refuses the
token, with what is wrong: {"ok": false, "database": "reachable", "slack": "token rejected: invalid_auth"}.

`POST /api/outcomes` with `Authorization: Bearer $LUMEN_API_TOKEN` and a JSON
body: {"decision_id": 12, "verdict": "success", "metric": "MRR", "before": 41000,
"after": 44500, "note": "...", "reported_by": "billing", "replace": false}.

`POST /api/triggers/<venture>/<role>` with the same token and any JSON object wakes an agent
whose lumen.yml says `triggers: {webhook: true}`; the object is shown to it as quoted data.
An `Idempotency-Key` header makes retries one run; without one, the same body within 5
minutes is. Answers 202 with the run and what became of the call: queued, duplicate (the
same call again), coalesced (into a run already waiting), skipped (a paused agent, the
runs-per-hour ceiling), with why.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from lumen.agents import service as agents
from lumen.brain.service import OutcomeExists, OutcomeReport
from lumen.container import Container
from lumen.domain.triggers import unstorable
from lumen.errors import LumenError, NotFound
from lumen.metrics import HTTP_LATENCY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Is Slack reachable, and does it take the token? (ok, what is wrong)
SlackCheck = Callable[[], Awaitable[tuple[bool, str]]]
TIMED_PATHS = ("/slack/events", "/readyz")
_TIMERS = {path: HTTP_LATENCY.labels(path=path) for path in (*TIMED_PATHS, "other")}


@web.middleware
async def timing(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        _TIMERS.get(request.path, _TIMERS["other"]).observe(time.perf_counter() - started)


def _error(status: int, error: str, detail: str) -> web.Response:
    return web.json_response({"ok": False, "error": error, "detail": detail}, status=status)


# An outcome is a few hundred bytes; this leaves room for a long note and refuses the rest unread.
MAX_OUTCOME_BYTES = 64 * 1024


class BadBody(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or BadBody saying what is wrong with it."""
    if request.content_length is not None and request.content_length > MAX_OUTCOME_BYTES:
        raise BadBody(413, "body_too_large", f"The body is over {MAX_OUTCOME_BYTES} bytes.")
    try:
        charset = request.charset
    except Exception:
        charset = "?"
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise BadBody(415, "unsupported_charset", "Send the JSON as UTF-8.")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        raw += chunk
        if len(raw) > MAX_OUTCOME_BYTES:
            raise BadBody(413, "body_too_large", f"The body is over {MAX_OUTCOME_BYTES} bytes.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadBody(400, "invalid_utf8", "The body is not valid UTF-8.") from None
    except (ValueError, RecursionError):
        raise BadBody(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):  # an array, a string or null: json.loads accepts them all
        raise BadBody(400, "invalid_json", "The body must be a JSON object.")
    return body


MAX_KEY_CHARS = 200


def _usable_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()


def add_routes(app: web.Application, c: Container, slack: SlackCheck | None = None) -> None:
    """Health, readiness, metrics and the outcomes API, beside Slack's endpoint."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        """Ready when the database answers and Slack takes our token; if not, says which and why."""
        database_ok = await c.db.ping()
        answer: dict[str, object] = {"database": "reachable" if database_ok else "unreachable"}
        slack_ok = True
        if slack is not None:
            slack_ok, answer["slack"] = await slack()
        ok = database_ok and slack_ok
        return web.json_response({"ok": ok, **answer}, status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    def refused(request: web.Request, what: str) -> web.Response | None:
        """The bearer token check shared by the machine endpoints; None lets the request in."""
        token = c.settings.api_token
        if not token:
            return _error(503, "api_disabled", f"Set LUMEN_API_TOKEN to accept {what} over HTTP.")
        header = request.headers.get("Authorization", "")
        # A header with bytes beyond ASCII is no token of ours (and compare_digest wants ASCII).
        if not header.isascii() or not header.startswith("Bearer ") or not hmac.compare_digest(header[7:].encode(), token.encode()):
            return _error(401, "unauthorized", "Send Authorization: Bearer <LUMEN_API_TOKEN>.")
        return None

    async def post_outcome(request: web.Request) -> web.Response:
        if (refusal := refused(request, "outcomes")) is not None:
            return refusal
        try:
            body = await _json_body(request)
            report = OutcomeReport.model_validate(body | {"reported_by": body.get("reported_by") or "api"})
        except BadBody as exc:
            return _error(exc.status, exc.error, exc.detail)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return _error(422, "invalid_outcome", detail)
        try:
            async with c.db.transaction() as session:
                recorded = await agents.record_outcome(session, report, source="api", limits=agents.limits_from(c.settings))
        except OutcomeExists as exc:
            return _error(409, "outcome_exists", str(exc))
        except NotFound as exc:
            return _error(404, "decision_not_found", str(exc))
        except LumenError as exc:
            return _error(409, "not_executed", str(exc))
        c.signals.outbox.notify()
        c.signals.runs.notify()
        return web.json_response(
            {"ok": True, "outcome_id": recorded.outcome_id, "decision_id": recorded.decision_id, "supersedes": recorded.superseded},
            status=201,
        )

    async def post_trigger(request: web.Request) -> web.Response:
        if (refusal := refused(request, "webhooks")) is not None:
            return refusal
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _usable_key(key):
            return _error(400, "invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters.")
        try:
            body = await _json_body(request)
        except BadBody as exc:
            return _error(exc.status, exc.error, exc.detail)
        if (problem := unstorable(body)) is not None:
            return _error(400, "invalid_json", problem)
        try:
            async with c.db.transaction() as session:
                fired = await agents.webhook(
                    session, request.match_info["venture"], request.match_info["role"], body,
                    idempotency_key=key, limits=agents.limits_from(c.settings),
                )
        except NotFound as exc:
            return _error(404, "not_found", str(exc))
        if fired.outcome == "queued":
            c.signals.runs.notify()
        answer = {"ok": True, "run_id": fired.run_id, "status": fired.outcome}
        if fired.reason:
            answer["reason"] = fired.reason
        if fired.coalesced_into is not None:
            answer["coalesced_into"] = fired.coalesced_into
        return web.json_response(answer, status=202)

    app.middlewares.append(timing)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/outcomes", post_outcome)
    app.router.add_post("/api/triggers/{venture}/{role}", post_trigger)
