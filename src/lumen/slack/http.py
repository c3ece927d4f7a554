"""Slack's HTTP door: every request is checked here before anything parses it.

In order, each refusal a one-line warning and a clean 4xx, never a traceback:

  404  anything, on a replica without a signing secret (Socket Mode only: nothing to check with);
  413  a body over MAX_BODY_BYTES (by its Content-Length, or as it is read);
  401  a timestamp that is not a plain integer, or more than 5 minutes from now, either way;
  401  a signature that is not Slack's HMAC-SHA256 over the raw bytes;
  415  a charset other than UTF-8, or a content type Slack never sends;
  400  bytes that are not UTF-8, or a body of no shape Slack sends: a form with `payload`
       holding a JSON object, a form with `command`, or a JSON object with a `type`;
  200  (empty, nothing run) a command, click or modal seen before: the same signed bytes sent
       again within the window are a replay, as Slack never resends those. This replica
       remembers the signatures it took; a request signed more than LATE_S ago (Slack's come
       within a second) is also looked up in the inbox, where every replica records the
       commands and clicks it took, by trigger_id, right after its ack.

Only then is the body handed to Bolt, already parsed: Bolt's own form parser looks for the
word "payload" anywhere in the raw body, so `/lumen ask what was in the payload?` reached no
listener (404 "unhandled request"). The check here replaces Bolt's request verification,
which is off (Socket Mode carries no signatures, and its requests never come this way).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type, parse_query

from lumen.db.session import Database
from lumen.engine import inbox
from lumen.log import get_logger
from lumen.slack.middleware import delivery_key
from lumen.slack.shapes import BadShape, check_shape

log = get_logger(__name__)

# Slack's own payloads stay far below this (a message is at most 40k characters, a modal 100
# blocks); anything bigger is refused before it is read.
MAX_BODY_BYTES = 1024 * 1024
# Slack's window: a request signed more than this long ago (or ahead) is refused.
WINDOW_S = 5 * 60
# Slack's requests arrive within a second of being signed; one older than this may be a replay
# sent to another replica, so it is looked up in the database (fresh ones need not wait for it).
LATE_S = 5.0
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_UTF8 = frozenset({"utf-8", "utf8"})


class Refused(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail

    def response(self) -> web.Response:
        return web.json_response({"ok": False, "error": self.error, "detail": self.detail}, status=self.status)


class ParsedRequest(AsyncBoltRequest):
    """An HTTP request whose body was parsed here (Bolt's parser is not asked again)."""

    def __init__(self, raw_body: str, body: dict[str, Any], headers: Any, query: str = "") -> None:
        # What AsyncBoltRequest.__init__ sets in HTTP mode, without parsing anything twice
        # (its own __init__ would parse an empty body and build the context twice).
        self.raw_body = raw_body
        self.body = body
        self.query = parse_query(query) if query else {}
        self.headers = build_normalized_headers(headers)
        self.content_type = extract_content_type(self.headers)
        self.context = build_async_context(AsyncBoltContext({}), body)
        self.lazy_only = bool(self.headers.get("x-slack-bolt-lazy-only", [False])[0])
        self.lazy_function_name = self.headers.get("x-slack-bolt-lazy-function-name", [None])[0]
        self.mode = "http"

    def to_copyable(self) -> AsyncBoltRequest:
        return ParsedRequest(self.raw_body, self.body, self.headers)


class SeenSignatures:
    """The signatures of the commands, clicks and modals taken within the window, each kept
    until its timestamp leaves the window (after that the signature check refuses it anyway)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._order: deque[tuple[float, str]] = deque()
        self._clock = clock

    def first_time(self, signature: str, timestamp: int) -> bool:
        now = self._clock()
        while self._order and self._order[0][0] < now:
            _, old = self._order.popleft()
            if self._until.get(old, now + 1) < now:
                del self._until[old]
        if signature in self._until:
            return False
        until = timestamp + WINDOW_S + 1
        self._until[signature] = until
        # Timestamps differ by at most the window: the deque stays nearly in order, and an
        # entry popped a little late costs nothing.
        self._order.append((until, signature))
        return True

    def forget(self, signature: str) -> None:
        """The request failed on our side: Slack (or the sweep) may send it again."""
        self._until.pop(signature, None)

    def clear(self) -> None:
        """Forget every signature, as a replica that just started knows none."""
        self._until.clear()
        self._order.clear()

    def __len__(self) -> int:
        return len(self._until)


def check_timestamp(value: str | None, now: float) -> int:
    # ASCII digits only: int() would also take "+12", " 12 " and "١٢".
    if value is None or not _TIMESTAMP.fullmatch(value):
        raise Refused(401, "invalid_timestamp", "X-Slack-Request-Timestamp must be the Unix time in whole seconds.")
    timestamp = int(value)
    if abs(now - timestamp) > WINDOW_S:
        raise Refused(401, "stale_request", "X-Slack-Request-Timestamp is more than 5 minutes from now.")
    return timestamp


def check_signature(secret: bytes, timestamp: str, raw: bytes, given: str | None) -> str:
    if given is None or not _SIGNATURE.fullmatch(given):
        raise Refused(401, "invalid_signature", "X-Slack-Signature is missing or malformed.")
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise Refused(401, "invalid_signature", "X-Slack-Signature does not match the body.")
    return given


def decode(raw: bytes, charset: str | None) -> str:
    if charset is not None and charset.lower() not in _UTF8:
        raise Refused(415, "unsupported_charset", "Only UTF-8 bodies are accepted.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "invalid_utf8", "The body is not valid UTF-8.") from None


# Text a database cannot store (Postgres refuses NUL and unpaired surrogates, in text and JSON).
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _storable(text: str, what: str) -> None:
    if "\x00" in text or "\\u0000" in text or ("\\u" in text and _LONE_SURROGATE.search(text)):
        raise Refused(400, "invalid_text", f"{what} holds a NUL character or an unpaired surrogate.")


def _json_object(text: str, what: str) -> dict[str, Any]:
    _storable(text, what)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, "invalid_json", f"{what} is not valid JSON.") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise Refused(400, "invalid_payload", f"{what} must be a JSON object with a 'type'.")
    return value


def parse(text: str, content_type: str) -> dict[str, Any]:
    """The body as Bolt's listeners read it, in one of the shapes Slack sends."""
    body = _parse(text, content_type)
    try:
        check_shape(body)
    except BadShape as exc:
        raise Refused(400, "invalid_payload", str(exc)) from None
    return body


def _parse(text: str, content_type: str) -> dict[str, Any]:
    if content_type == "application/json":
        return _json_object(text, "The body")
    if content_type != "application/x-www-form-urlencoded":
        raise Refused(415, "unsupported_content_type", "Send application/x-www-form-urlencoded or application/json.")
    try:
        form = dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "invalid_form", "The form is not valid URL encoding of UTF-8.") from None
    if "payload" in form:
        return _json_object(form["payload"], "The form's payload")
    if any("\x00" in value for value in form.values()):
        raise Refused(400, "invalid_text", "The form holds a NUL character.")
    if isinstance(form.get("command"), str) and form["command"].startswith("/"):
        return form
    if form.get("ssl_check") == "1":
        return form
    raise Refused(400, "invalid_form", "The form has neither a payload nor a command.")


def replayable(body: dict[str, Any]) -> bool:
    """A command, click or modal: Slack sends each once, so the same signed bytes twice are a
    replay. (An event is retried by Slack and deduplicated by its event_id in the inbox.)"""
    return body.get("type") != "event_callback" and body.get("type") != "url_verification"


SEEN = web.AppKey("lumen_seen_signatures", SeenSignatures)


def slack_endpoint(  # type: ignore[no-untyped-def]
    bolt: AsyncApp,
    signing_secret: str,
    seen: SeenSignatures,
    db: Database | None = None,
    *,
    clock: Callable[[], float] = time.time,
    ready_answers: Callable[[dict[str, Any]], tuple[dict[str, Any], bytes] | None] | None = None,
):
    secret = signing_secret.encode()

    async def taken_elsewhere(body: dict[str, Any], timestamp: int) -> bool:
        key = delivery_key(body)
        if db is None or key is None or clock() - timestamp <= LATE_S:
            return False
        try:
            async with db.sessions() as session:
                return await inbox.recorded(session, key)
        except Exception as exc:  # the work would meet the same database: let it say so
            log.warning("lumen.slack.replay_check_failed", error=str(exc)[:200])
            return False

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            raw_body, body, signature = await _checked(request)
        except Refused as refused:
            log.warning("lumen.slack.request_refused", status=refused.status, error=refused.error)
            return refused.response()
        if signature is not None:
            timestamp = int(request.headers["X-Slack-Request-Timestamp"])
            if not seen.first_time(signature, timestamp) or await taken_elsewhere(body, timestamp):
                log.warning("lumen.slack.replay_refused", key=str(body.get("trigger_id") or body.get("type"))[:64])
                return web.Response(status=200)
        if ready_answers is not None and (ready := ready_answers(body)) is not None:
            # Checked, signed and first seen: an answer from memory needs nothing of Bolt's.
            return web.Response(body=ready[1], content_type="application/json", charset="utf-8")
        try:
            response = await bolt.async_dispatch(ParsedRequest(raw_body, body, request.headers, request.query_string))
        except BaseException:
            if signature is not None:
                seen.forget(signature)
            raise
        if signature is not None and response.status >= 500:
            seen.forget(signature)
        return await to_aiohttp_response(response)

    async def _checked(request: web.Request) -> tuple[str, dict[str, Any], str | None]:
        if not secret:
            raise Refused(404, "http_mode_off", "This replica takes Slack's requests over Socket Mode only.")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise Refused(413, "body_too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        check_timestamp(timestamp, clock())
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refused(413, "body_too_large", f"The body is over {MAX_BODY_BYTES} bytes.") from None
        signature = check_signature(secret, timestamp or "", raw, request.headers.get("X-Slack-Signature"))
        try:
            charset = request.charset
        except Exception:  # a Content-Type aiohttp cannot read
            raise Refused(415, "unsupported_content_type", "The Content-Type could not be read.") from None
        text = decode(raw, charset)
        body = parse(text, request.content_type)
        return text, body, signature if replayable(body) else None

    return handle


def slack_web_app(bolt: AsyncApp, signing_secret: str, path: str, db: Database | None = None) -> web.Application:
    """The aiohttp app with Slack's endpoint behind the checks above (the API's routes join it)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SEEN] = SeenSignatures()
    ready = getattr(bolt, "ready_answers", None)
    app.router.add_post(path, slack_endpoint(bolt, signing_secret, app[SEEN], db, ready_answers=ready))
    return app
