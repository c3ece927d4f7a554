"""The HTTP API for other systems: report outcomes and metrics.

`POST /api/outcomes` with `Authorization: Bearer $LUMEN_API_TOKEN` and a JSON
body: {"decision_id": 12, "verdict": "success", "metric": "MRR", "before": 41000,
"after": 44500, "note": "...", "reported_by": "billing", "replace": false}.
"""

from __future__ import annotations

import hmac
import json

from aiohttp import web
from pydantic import ValidationError

from lumen.brain.outcomes import OutcomeExists, OutcomeReport, record_outcome
from lumen.errors import LumenError, NotFound
from lumen.services import Services


def _error(status: int, error: str, detail: str) -> web.Response:
    return web.json_response({"ok": False, "error": error, "detail": detail}, status=status)


def add_api_routes(app: web.Application, services: Services) -> None:
    async def post_outcome(request: web.Request) -> web.Response:
        token = services.settings.api_token
        if not token:
            return _error(503, "api_disabled", "Set LUMEN_API_TOKEN to accept outcomes over HTTP.")
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not hmac.compare_digest(header[7:].encode(), token.encode()):
            return _error(401, "unauthorized", "Send Authorization: Bearer <LUMEN_API_TOKEN>.")
        try:
            body = await request.json()
            if not isinstance(body, dict):  # an array, a string or null: json.loads accepts them all
                raise TypeError
            report = OutcomeReport.model_validate(body | {"reported_by": body.get("reported_by") or "api"})
        except (json.JSONDecodeError, TypeError):
            return _error(400, "invalid_json", "The body must be a JSON object.")
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return _error(422, "invalid_outcome", detail)
        try:
            async with services.db.transaction() as session:
                recorded = await record_outcome(session, report, source="api")
        except OutcomeExists as exc:
            return _error(409, "outcome_exists", str(exc))
        except NotFound as exc:
            return _error(404, "decision_not_found", str(exc))
        except LumenError as exc:
            return _error(409, "not_executed", str(exc))
        services.outbox_queued()
        return web.json_response(
            {"ok": True, "outcome_id": recorded.outcome_id, "decision_id": recorded.decision_id, "supersedes": recorded.superseded},
            status=201,
        )

    app.router.add_post("/api/outcomes", post_outcome)
