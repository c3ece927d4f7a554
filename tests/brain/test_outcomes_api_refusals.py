"""POST /api/outcomes refuses every bad request with a clean 4xx JSON error naming what is
wrong, never a 500: through the real replica's HTTP, on both databases."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from sqlalchemy import func, select

from lumen.api import MAX_OUTCOME_BYTES
from lumen.db.models import Outcome
from lumen.devmode import DevStack
from tests.brain.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def send(stack: DevStack, raw: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.app_url}/api/outcomes", data=raw, headers=headers) as response:
            assert response.content_type == "application/json", (response.status, await response.text())
            return response.status, await response.json()


async def test_bad_outcome_requests_get_clean_errors(stack: DevStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    json_type = {"Content-Type": "application/json"}
    cases: list[tuple[bytes, dict[str, str], int, str, str]] = [
        # (body, headers, status, error, a word the detail must hold)
        (b'{"decision_id": 1, "verdict": "success"}', {"Authorization": "Bearer tok\u00e9n".encode().decode("latin-1"), **json_type}, 401, "unauthorized", "Bearer"),
        (b'{"decision_id": 1, "verdict": "success", "note": "\xff"}', {**AUTH, **json_type}, 400, "invalid_utf8", "UTF-8"),
        (b'{"decision_id": 1, "verdict": "success"}', {**AUTH, "Content-Type": "application/json; charset=x-unknown"}, 415, "unsupported_charset", "UTF-8"),
        (b'{"decision_id": 1, "verdict": "success"}', {**AUTH, "Content-Type": "application/json; charset=latin-1"}, 415, "unsupported_charset", "UTF-8"),
        (b"[" * 30_000 + b"]" * 30_000, {**AUTH, **json_type}, 400, "invalid_json", "JSON object"),
        (b"{\"a\": " * 5_000 + b"1" + b"}" * 5_000, {**AUTH, **json_type}, 400, "invalid_json", "JSON object"),
        (b"[1, 2]", {**AUTH, **json_type}, 400, "invalid_json", "JSON object"),
        (b"{nope", {**AUTH, **json_type}, 400, "invalid_json", "JSON object"),
        (b'{"decision_id": 99999999999999999999, "verdict": "success"}', {**AUTH, **json_type}, 422, "invalid_outcome", "decision_id"),
        (b'{"decision_id": true, "verdict": "success"}', {**AUTH, **json_type}, 422, "invalid_outcome", "decision_id"),
        (b'{"decision_id": "12", "verdict": "success"}', {**AUTH, **json_type}, 422, "invalid_outcome", "decision_id"),
        (b'{"decision_id": 1.5, "verdict": "success"}', {**AUTH, **json_type}, 422, "invalid_outcome", "decision_id"),
        (b'{"decision_id": 1, "verdict": "success", "before": NaN}', {**AUTH, **json_type}, 422, "invalid_outcome", "before"),
        (b'{"decision_id": 1, "verdict": "success", "after": Infinity}', {**AUTH, **json_type}, 422, "invalid_outcome", "after"),
        (b'{"decision_id": 1, "verdict": "success", "after": -Infinity}', {**AUTH, **json_type}, 422, "invalid_outcome", "after"),
        (b'{"decision_id": 1, "verdict": "success", "before": 1e999}', {**AUTH, **json_type}, 422, "invalid_outcome", "before"),
        (b'{"decision_id": 1, "verdict": "success", "before": true}', {**AUTH, **json_type}, 422, "invalid_outcome", "before"),
        (b'{"decision_id": 1, "verdict": "success", "replace": "yes"}', {**AUTH, **json_type}, 422, "invalid_outcome", "replace"),
        (b'{"decision_id": 1, "verdict": "success", "note": "a\\u0000b"}', {**AUTH, **json_type}, 422, "invalid_outcome", "note"),
        (b'{"decision_id": 1, "verdict": "success", "note": "\\ud800"}', {**AUTH, **json_type}, 422, "invalid_outcome", "note"),
        (b'{"decision_id": 1, "verdict": 7}', {**AUTH, **json_type}, 422, "invalid_outcome", "verdict"),
        (b'{"decision_id": 1, "verdict": "success", "note": "' + b"x" * MAX_OUTCOME_BYTES + b'"}', {**AUTH, **json_type}, 413, "body_too_large", "bytes"),
        (b'{"decision_id": 9223372036854775807, "verdict": "success"}', {**AUTH, **json_type}, 404, "decision_not_found", "9223372036854775807"),
    ]
    for raw, headers, status, error, word in cases:
        got, answer = await send(stack, raw, headers)
        assert (got, answer["error"]) == (status, error), (raw[:80], answer)
        assert word in answer["detail"], (raw[:80], answer)
    async with stack.container.db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Outcome))).scalar_one() == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]
