"""Pure helpers over Slack payloads: a dict in, plain values out. No Slack objects, no I/O.

Slack's payloads nest what a listener needs in different places per surface (a message in
a channel, App Home, a modal); these read them once, the same way, and say None when a
payload lacks what they look for rather than raising on a missing key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ButtonClick:
    user_id: str
    value: str
    number: int | None  # the value as a positive id, when it is one
    action_ts: str
    channel_id: str | None  # None from App Home, which has no channel
    message_ts: str | None
    trigger_id: str | None
    in_home: bool = False  # clicked in the clicker's App Home tab


# The largest id a database column holds (BIGINT); a bigger "id" names nothing.
MAX_ID = 2**63 - 1


def positive_id(value: Any) -> int | None:
    """A record id from Slack's strings (a button value, a modal's metadata); None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        number = int(value)
        return number if 0 < number <= MAX_ID else None
    return None


def user_id(body: dict[str, Any]) -> str | None:
    """Who clicked or submitted: an interaction's user, or a command's user_id."""
    user = body.get("user")
    value = user.get("id") if isinstance(user, dict) else body.get("user_id")
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def button_click(body: dict[str, Any]) -> ButtonClick | None:
    """The first action of a block_actions payload; None when it has no user or no action."""
    actions = body.get("actions")
    user_id = _dict(body.get("user")).get("id")
    if not isinstance(actions, list) or not actions or not isinstance(user_id, str):
        return None
    action = _dict(actions[0])
    value = str(action.get("value") or "")
    container = _dict(body.get("container"))
    return ButtonClick(
        user_id=user_id,
        value=value,
        number=positive_id(value),
        action_ts=str(action.get("action_ts") or ""),
        channel_id=_dict(body.get("channel")).get("id") or container.get("channel_id"),
        message_ts=container.get("message_ts") or _dict(body.get("message")).get("ts"),
        trigger_id=body.get("trigger_id"),
        in_home=_dict(body.get("view")).get("type") == "home",
    )


def thread_of(body: dict[str, Any]) -> str | None:
    """The thread a clicked message sits in, when it is a reply."""
    message = _dict(body.get("message"))
    container = _dict(body.get("container"))
    value = message.get("thread_ts") or container.get("thread_ts")
    return value if isinstance(value, str) else None


def view_input(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str | None:
    """A modal input's value (text, or a select's choice), stripped; None when empty."""
    element = _dict(_dict(values.get(block_id)).get(action_id or block_id))
    if element.get("type") in ("static_select", "radio_buttons"):
        return _dict(element.get("selected_option")).get("value")
    text = element.get("value")
    return text.strip() or None if isinstance(text, str) else None
