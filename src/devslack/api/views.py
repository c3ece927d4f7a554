"""views.open / push / update / publish — modals need a fresh trigger_id, like Slack."""

from __future__ import annotations

from . import ApiError, Request, method
from ..tokens import TriggerError

MAX_VIEW_BLOCKS = 100
MAX_STACK = 3


def view_definition(req: Request, *, home: bool = False) -> dict:
    view = req.json("view", "invalid_arguments")
    if not isinstance(view, dict) or not view.get("type"):
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: type"]})
    if home and view["type"] != "home":
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] must be a home view"]})
    if view["type"] == "modal" and not view.get("title"):
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: title [json-pointer:/view]"]})
    if len(view.get("blocks") or []) > MAX_VIEW_BLOCKS:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"]})
    return view


def exchange_trigger(req: Request) -> str:
    try:
        return req.ws.triggers.exchange(req.get("trigger_id"))
    except TriggerError as e:
        raise ApiError(e.error) from None


@method("views.open")
async def views_open(req: Request) -> dict:
    definition = view_definition(req)
    style = req.ws.triggers.source_style(req.get("trigger_id"))
    user_id = exchange_trigger(req)
    return {"view": req.ws.open_modal(user_id, definition, opened_from_style=style).to_slack()}


@method("views.push")
async def views_push(req: Request) -> dict:
    definition = view_definition(req)
    user_id = exchange_trigger(req)
    if len(req.ws.modal_stacks.get(user_id) or []) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    return {"view": req.ws.push_modal(user_id, definition).to_slack()}


@method("views.update")
async def views_update(req: Request) -> dict:
    definition = view_definition(req)
    view = req.ws.find_view(req.get("view_id"), req.get("external_id"))
    if view is None:
        raise ApiError("not_found")
    if req.get("hash") and req.get("hash") != view.hash:
        raise ApiError("hash_conflict")
    return {"view": req.ws.replace_view(view, definition).to_slack()}


@method("views.publish")
async def views_publish(req: Request) -> dict:
    definition = view_definition(req, home=True)
    user_id = req.require("user_id", "invalid_arguments")
    if user_id not in req.ws.users:
        raise ApiError("user_not_found")
    current = req.ws.home_views.get(user_id)
    if current is not None and req.get("hash") and req.get("hash") != current.hash:
        raise ApiError("hash_conflict")
    return {"view": req.ws.publish_home(user_id, definition).to_slack()}
