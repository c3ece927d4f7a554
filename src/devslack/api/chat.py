"""chat.* methods: post, update, delete, ephemeral, permalink."""

from __future__ import annotations

from . import ApiError, Request, method
from ..models import Channel

MAX_BLOCKS = 50  # Slack rejects messages with more blocks
MAX_TEXT = 40_000


def content(req: Request, *, required: bool = True) -> tuple[str | None, list | None, list | None]:
    """text, blocks, attachments with Slack's validation (no_text, invalid_blocks, msg_too_long)."""
    text = req.get("text")
    blocks = req.json("blocks", "invalid_blocks_format")
    attachments = req.json("attachments", "invalid_attachments")
    if blocks is not None:
        if not isinstance(blocks, list) or not all(isinstance(b, dict) and b.get("type") for b in blocks):
            raise ApiError("invalid_blocks_format")
        if len(blocks) > MAX_BLOCKS:
            raise ApiError("invalid_blocks", errors=[f"must provide an array of no more than {MAX_BLOCKS} items [json-pointer:/blocks]"])
        for index, block in enumerate(blocks):
            image = block.get("slack_file") if block.get("type") == "image" else None
            if isinstance(image, dict) and req.ws.files.image(str(image.get("id", ""))) is None:
                raise ApiError("invalid_blocks", errors=[f"invalid slack file [json-pointer:/blocks/{index}/slack_file]"])
    if required and not text and not blocks and not attachments:
        raise ApiError("no_text")
    if text and len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks, attachments


def writable_channel(req: Request, ref: str | None) -> Channel:
    channel = req.ws.resolve_channel(ref) if ref else None
    if channel is None:
        raise ApiError("channel_not_found")
    if channel.is_private and req.ws.bot.id not in channel.members:
        raise ApiError("not_in_channel")  # public channels are fine: chat:write.public
    return channel


@method("chat.postMessage")
async def post_message(req: Request) -> dict:
    channel = writable_channel(req, req.get("channel"))
    text, blocks, attachments = content(req)
    thread_ts = req.get("thread_ts")  # Slack accepts unknown thread_ts silently
    metadata = req.json("metadata")
    msg = req.ws.post(channel.id, as_bot=True, text=text or "", blocks=blocks, thread_ts=thread_ts, metadata=metadata, attachments=attachments)
    assistant = req.ws.assistant_threads.get((channel.id, thread_ts)) if thread_ts else None
    if assistant is not None and assistant.status:  # Slack clears the "is thinking..." status on reply
        assistant.status = ""
        req.ws.assistant_changed(assistant)
    return {"channel": channel.id, "ts": msg.ts, "message": msg.to_slack()}


@method("chat.update")
async def update(req: Request) -> dict:
    channel = writable_channel(req, req.get("channel"))
    msg = req.ws.find_message(channel.id, req.require("ts", "message_not_found"))
    if msg is None:
        raise ApiError("message_not_found")
    if msg.bot_id != req.ws.bot.bot_id:
        raise ApiError("cant_update_message")
    text, blocks, attachments = content(req, required=False)
    fields = {}
    if attachments is not None:
        fields["attachments"] = attachments
    if req.get("metadata") is not None:
        fields["metadata"] = req.json("metadata")
    req.ws.update_message(msg, text=text, blocks=blocks, editor=req.ws.bot.id, **fields)
    return {"channel": channel.id, "ts": msg.ts, "text": msg.text, "message": msg.to_slack()}


@method("chat.delete")
async def delete(req: Request) -> dict:
    channel = writable_channel(req, req.get("channel"))
    msg = req.ws.find_message(channel.id, req.require("ts", "message_not_found"))
    if msg is None:
        raise ApiError("message_not_found")
    if msg.bot_id != req.ws.bot.bot_id:
        raise ApiError("cant_delete_message")
    req.ws.delete_message(msg)
    return {"channel": channel.id, "ts": msg.ts}


@method("chat.postEphemeral")
async def post_ephemeral(req: Request) -> dict:
    channel = writable_channel(req, req.get("channel"))
    user_id = req.require("user", "user_not_found")
    if user_id not in req.ws.users:
        raise ApiError("user_not_found")
    if user_id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks, attachments = content(req)
    msg = req.ws.post(channel.id, as_bot=True, text=text or "", blocks=blocks, attachments=attachments,
                      thread_ts=req.get("thread_ts"), ephemeral_user=user_id)
    return {"message_ts": msg.ts}


@method("chat.getPermalink")
async def get_permalink(req: Request) -> dict:
    channel = req.ws.resolve_channel(req.require("channel", "channel_not_found"))
    if channel is None:
        raise ApiError("channel_not_found")
    ts = req.require("message_ts", "message_not_found")
    msg = req.ws.find_message(channel.id, ts)
    if msg is None:
        raise ApiError("message_not_found")
    link = f"{req.ws.base_url}/archives/{channel.id}/p{ts.replace('.', '')}"
    if msg.is_reply:
        link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}
