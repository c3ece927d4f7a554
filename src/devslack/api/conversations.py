"""conversations.* methods."""

from __future__ import annotations

from . import ApiError, Request, method, paginate
from ..models import Channel

TYPE_OF = {"public_channel": lambda c: not c.is_im and not c.is_private,
           "private_channel": lambda c: not c.is_im and c.is_private,
           "im": lambda c: c.is_im,
           "mpim": lambda c: False}


def visible_channel(req: Request, key: str = "channel") -> Channel:
    """A channel the bot can see (private channels only when it is a member)."""
    channel = req.ws.resolve_channel(req.require(key, "channel_not_found"))
    if channel is None or (channel.is_private and req.ws.bot.id not in channel.members):
        raise ApiError("channel_not_found")
    return channel


def readable_channel(req: Request) -> Channel:
    channel = visible_channel(req)
    if req.ws.bot.id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


@method("conversations.list")
async def conversations_list(req: Request) -> dict:
    types = [t.strip() for t in (req.get("types") or "public_channel").split(",")]
    bot = req.ws.bot.id
    chans = [
        c for c in req.ws.channels.values()
        if any(TYPE_OF.get(t, lambda c: False)(c) for t in types) and (not c.is_private or bot in c.members)
    ]
    page, meta = paginate([c.to_slack(bot) for c in chans], req)
    return {"channels": page, "response_metadata": meta}


@method("conversations.info")
async def conversations_info(req: Request) -> dict:
    return {"channel": visible_channel(req).to_slack(req.ws.bot.id)}


@method("conversations.members")
async def conversations_members(req: Request) -> dict:
    page, meta = paginate(list(visible_channel(req).members), req)
    return {"members": page, "response_metadata": meta}


@method("conversations.join")
async def conversations_join(req: Request) -> dict:
    channel = visible_channel(req)
    if channel.is_private or channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    out: dict = {"channel": channel.to_slack(req.ws.bot.id)}
    if req.ws.bot.id in channel.members:
        out["warning"] = "already_in_channel"
        out["response_metadata"] = {"warnings": ["already_in_channel"]}
    else:
        req.ws.ensure_channel(channel.name, members=[])
        out["channel"] = channel.to_slack(req.ws.bot.id)
    return out


@method("conversations.open")
async def conversations_open(req: Request) -> dict:
    if req.get("channel"):
        channel = visible_channel(req)
        return {"channel": channel.to_slack(req.ws.bot.id) if req.flag("return_im") else {"id": channel.id}}
    users = [u.strip() for u in (req.get("users") or "").split(",") if u.strip()]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        raise ApiError("method_not_supported_for_channel_type")  # multi-person DMs are not simulated
    if users[0] not in req.ws.users:
        raise ApiError("user_not_found")
    existed = any(c.is_im and c.im_user == users[0] for c in req.ws.channels.values())
    channel = req.ws.dm_with(users[0])
    out: dict = {"channel": channel.to_slack() if req.flag("return_im") else {"id": channel.id}}
    if existed:
        out.update(no_op=True, already_open=True)
    return out


def _window(req: Request, messages: list) -> list:
    oldest, latest = float(req.get("oldest", 0) or 0), req.get("latest")
    inclusive = req.flag("inclusive")
    out = []
    for m in messages:
        ts = float(m.ts)
        if (ts > oldest or (inclusive and ts == oldest)) and (latest is None or ts < float(latest) or (inclusive and ts == float(latest))):
            out.append(m)
    return out


@method("conversations.history")
async def conversations_history(req: Request) -> dict:
    channel = readable_channel(req)
    msgs = _window(req, req.ws.messages(channel.id, include_replies=False))[::-1]  # newest first
    meta_ok = req.flag("include_all_metadata")
    page, meta = paginate([m.to_slack(include_metadata=meta_ok) for m in msgs], req)
    return {"messages": page, "has_more": bool(meta["next_cursor"]), "pin_count": 0,
            "channel_actions_ts": None, "channel_actions_count": 0, "response_metadata": meta}


@method("conversations.replies")
async def conversations_replies(req: Request) -> dict:
    channel = readable_channel(req)
    ts = req.require("ts", "thread_not_found")
    parent = req.ws.find_message(channel.id, ts)
    if parent is None:
        raise ApiError("thread_not_found")
    thread = req.ws.thread(channel.id, ts) if parent.thread_ts == parent.ts else [parent]
    req.params.setdefault("inclusive", "true")  # Slack includes the parent even with oldest=ts
    msgs = _window(req, thread)
    meta_ok = req.flag("include_all_metadata")
    page, meta = paginate([m.to_slack(include_metadata=meta_ok) for m in msgs], req, default_limit=1000)
    return {"messages": page, "has_more": bool(meta["next_cursor"]), "response_metadata": meta}
