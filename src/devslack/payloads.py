"""Builders for the JSON Slack sends to apps: slash command forms, event envelopes, interaction payloads."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .ids import action_ts, event_id
from .models import Channel, Message, User, View

if TYPE_CHECKING:
    from .workspace import Workspace


def user_ref(ws: "Workspace", user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def team_ref(ws: "Workspace") -> dict[str, Any]:
    return {"id": ws.team_id, "domain": ws.domain}


def slash_command(ws: "Workspace", user: User, channel: Channel, command: str, text: str, trigger_id: str, response_url: str) -> dict[str, str]:
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.domain,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def event_envelope(ws: "Workspace", event: dict) -> dict[str, Any]:
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "context_enterprise_id": None,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id(),
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": ws.team_id, "user_id": ws.bot.id, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{ws.team_id}-{ws.app_id}",
    }


def message_event(msg: Message, channel: Channel, *, as_mention: bool = False) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention" if as_mention else "message",
        "user": msg.user,
        "text": msg.text,
        "ts": msg.ts,
        "team": msg.team,
        "blocks": msg.blocks,
        "channel": channel.id,
        "event_ts": msg.ts,
        "client_msg_id": f"{msg.ts.replace('.', '')[-12:]}-devslack",
    }
    if not as_mention:
        event["channel_type"] = "im" if channel.is_im else ("group" if channel.is_private else "channel")
    if msg.thread_ts:
        event["thread_ts"] = msg.thread_ts
        if msg.is_reply:
            event["parent_user_id"] = None
    return event


def block_action(element: dict, block_id: str, value: Any) -> dict[str, Any]:
    """One entry of ``actions[]`` for a clicked/selected element (value picks the option for selects)."""
    kind = element.get("type", "button")
    action: dict[str, Any] = {"action_id": element.get("action_id"), "block_id": block_id, "type": kind, "action_ts": action_ts()}
    if kind == "button":
        action.update(text=element.get("text"), value=value if value is not None else element.get("value"))
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons", "external_select"):
        action["selected_option"] = find_option(element, value)
    elif kind == "checkboxes":
        values = value if isinstance(value, list) else [value]
        action["selected_options"] = [find_option(element, v) for v in values]
    elif kind == "users_select":
        action["selected_user"] = value
    elif kind == "conversations_select" or kind == "channels_select":
        action["selected_conversation" if kind == "conversations_select" else "selected_channel"] = value
    elif kind == "datepicker":
        action["selected_date"] = value
    else:
        action["value"] = value
    return action


def find_option(element: dict, value: Any) -> dict | None:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options", [])
    if value is None:
        return options[0] if options else None
    return next((o for o in options if o.get("value") == value), {"text": {"type": "plain_text", "text": str(value)}, "value": value})


def element_state(element: dict, value: Any) -> dict[str, Any]:
    """``view.state.values[block_id][action_id]`` for an input element holding ``value``."""
    kind = element.get("type", "plain_text_input")
    if kind in ("static_select", "radio_buttons", "external_select"):
        return {"type": kind, "selected_option": find_option(element, value) if value is not None else None}
    if kind == "checkboxes":
        values = value if isinstance(value, list) else ([] if value is None else [value])
        return {"type": kind, "selected_options": [find_option(element, v) for v in values]}
    if kind == "multi_static_select":
        values = value if isinstance(value, list) else ([] if value is None else [value])
        return {"type": kind, "selected_options": [find_option(element, v) for v in values]}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "number_input":
        return {"type": kind, "value": None if value is None else str(value)}
    return {"type": kind, "value": value}


def view_state(view: View, values: dict[str, Any] | None) -> dict[str, dict]:
    """Build Slack's state.values for all input blocks. ``values`` maps block_id to either a
    value (single-element block) or ``{action_id: value}``."""
    values = values or {}
    state: dict[str, dict] = {}
    for block in view.definition.get("blocks", []):
        if block.get("type") != "input" or "element" not in block:
            continue
        block_id, element = block.get("block_id", ""), block["element"]
        action_id = element.get("action_id", "")
        given = values.get(block_id)
        if isinstance(given, dict) and action_id in given:
            given = given[action_id]
        elif given is None and action_id in values:
            given = values[action_id]
        if given is None and "initial_value" in element:
            given = element["initial_value"]
        state[block_id] = {action_id: element_state(element, given)}
    return state


def interaction_base(ws: "Workspace", kind: str, user: User, trigger_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": user_ref(ws, user),
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "trigger_id": trigger_id,
        "team": team_ref(ws),
        "enterprise": None,
        "is_enterprise_install": False,
    }
