"""What a body from Slack must look like before Bolt reads it: pure, no I/O.

Bolt reads some fields without checking their type (`"id" in body["user"]`,
`body["view"]["callback_id"]`, `len(body["authorizations"])`), so a signed body with a
number where Slack puts an object would end in a traceback. Slack itself always sends these
shapes: anything else is refused with the field it got wrong.
"""

from __future__ import annotations

from typing import Any

# Fields Bolt or Lumen read as an object (or, for some, Slack's short form: a plain id).
_OBJECTS = ("event", "message", "previous_message", "view", "container", "assistant_thread", "item", "state")
_OBJECT_OR_ID = ("user", "team", "channel", "enterprise")
_STRINGS = ("type", "trigger_id", "response_url", "user_id", "channel_id", "team_id", "event_id", "api_app_id", "callback_id", "command", "text")
_LISTS_OF_OBJECTS = ("authorizations", "response_urls", "actions")
# The kinds of request Lumen listens for; Slack sends other kinds only to apps that ask for them.
INTERACTIONS = frozenset({"block_actions", "view_submission", "view_closed"})
KINDS = INTERACTIONS | {"event_callback", "url_verification"}


# What the listeners read of each event Lumen subscribes to; Slack always sends these.
EVENT_FIELDS = {
    "app_mention": ("user", "channel", "ts"),
    "message": ("channel", "ts"),
    "app_home_opened": ("user",),
}
ASSISTANT_EVENTS = frozenset({"assistant_thread_started", "assistant_thread_context_changed"})


class BadShape(ValueError):
    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field


def _present(body: dict[str, Any], key: str) -> bool:
    return body.get(key) is not None


def _field(key: str, value: Any) -> None:
    """One top-level field, by what Bolt and the listeners take it to be."""
    if key in _OBJECTS:
        if not isinstance(value, dict):
            raise BadShape(key, "must be an object")
    elif key in _OBJECT_OR_ID:
        if not isinstance(value, str) and not (isinstance(value, dict) and isinstance(value.get("id"), str)):
            raise BadShape(key, "must be an object with an 'id' string")
    elif key in _STRINGS:
        if not isinstance(value, str):
            raise BadShape(key, "must be a string")
    elif key in _LISTS_OF_OBJECTS:
        if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise BadShape(key, "must be a list of objects")


_CHECKED = frozenset(_OBJECTS + _OBJECT_OR_ID + _STRINGS + _LISTS_OF_OBJECTS)


def check_shape(body: dict[str, Any]) -> None:
    """Raise BadShape naming the first field that is not as Slack sends it."""
    for key, value in body.items():  # once over the body: this runs before every ack
        if value is not None and key in _CHECKED:
            _field(key, value)
    if body.get("ssl_check") == "1":  # Slack's check of the certificate: Bolt answers it
        return
    if _present(body, "command"):
        for key in ("user_id", "channel_id", "response_url"):
            if not body.get(key):
                raise BadShape(key, "a slash command needs it")
        return
    kind = body.get("type")
    if kind not in KINDS:
        raise BadShape("type", f"must be one of {', '.join(sorted(KINDS))}")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise BadShape("event", "an event_callback needs an event with a 'type'")
        for key in ("user", "channel", "text", "ts", "thread_ts", "subtype", "channel_type", "bot_id", "team", "user_team"):
            if _present(event, key) and not isinstance(event[key], str):
                raise BadShape(f"event.{key}", "must be a string")
        for key in ("message", "previous_message", "assistant_thread", "blocks"):
            if _present(event, key) and not isinstance(event[key], dict if key != "blocks" else list):
                raise BadShape(f"event.{key}", "is not as Slack sends it")
        for key in EVENT_FIELDS.get(event["type"], ()):
            if not event.get(key):
                raise BadShape(f"event.{key}", f"a {event['type']} event needs it")
        if event["type"] in ASSISTANT_EVENTS:
            thread = event.get("assistant_thread")
            if not isinstance(thread, dict) or not all(isinstance(thread.get(k), str) for k in ("channel_id", "thread_ts")):
                raise BadShape("event.assistant_thread", "needs a channel_id and a thread_ts")
    elif kind in INTERACTIONS:
        if not isinstance(body.get("user"), dict):
            raise BadShape("user", "an interaction needs the user who made it")
        if kind.startswith("view_"):
            view = body.get("view")
            if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str) or not isinstance(view.get("type"), str):
                raise BadShape("view", "a view submission needs a view with a 'type' and a 'callback_id'")
            _check_view(view)
        if kind == "block_actions":
            actions = body.get("actions")
            if not actions or not all(isinstance(a.get("action_id"), str) for a in actions):
                raise BadShape("actions", "block_actions needs at least one action with an 'action_id'")
            for index, action in enumerate(actions):
                for key in ("value", "block_id", "action_ts", "type"):
                    if _present(action, key) and not isinstance(action[key], str):
                        raise BadShape(f"actions[{index}].{key}", "must be a string")
        if _present(body, "view") and kind == "block_actions":
            _check_view(body["view"])


def _check_view(view: dict[str, Any]) -> None:
    for key in ("id", "type", "private_metadata", "callback_id"):
        if _present(view, key) and not isinstance(view[key], str):
            raise BadShape(f"view.{key}", "must be a string")
    state = view.get("state")
    if state is None:
        return
    if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        raise BadShape("view.state", "must be an object with 'values'")
    for block_id, block in state.get("values", {}).items():
        if not isinstance(block, dict) or not all(isinstance(element, dict) for element in block.values()):
            raise BadShape(f"view.state.values.{block_id}", "must map action ids to objects")
