"""Plain data records of the dev workspace, each able to render itself in Slack's JSON shape."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class User:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    tz: str = "Europe/Berlin"
    email: str = ""
    bot_id: str | None = None
    is_admin: bool = False

    def to_slack(self, team_id: str) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "first_name": self.real_name.split(" ")[0],
            "email": self.email or None,
            "image_48": "",
            "team": team_id,
        }
        if self.bot_id:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = "A0LUMEN"
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 3600 if self.tz == "Europe/Berlin" else 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_admin,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1732170000,
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""
    creator: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    is_im: bool = False
    im_user: str | None = None  # for DMs: the human on the other side of the bot

    def to_slack(self, viewer_id: str | None = None) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": False,
            "is_general": self.name == "general",
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_member": viewer_id in self.members if viewer_id else False,
            "topic": {"value": self.topic, "creator": self.creator, "last_set": 0},
            "purpose": {"value": self.purpose, "creator": self.creator, "last_set": 0},
            "num_members": len(self.members),
            "creator": self.creator,
            "context_team_id": None,
        }


@dataclass
class Message:
    channel: str
    ts: str
    text: str = ""
    blocks: list[dict] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    reply_count: int = 0
    reply_users: list[str] = field(default_factory=list)
    latest_reply: str | None = None
    edited: dict | None = None
    metadata: dict | None = None
    attachments: list[dict] | None = None
    ephemeral_user: str | None = None  # set => only this user sees the message
    team: str = ""
    bot_profile: dict | None = None
    generated_blocks: bool = False  # blocks derived from text (replaced when text changes)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def mentions(self, user_id: str) -> bool:
        return f"<@{user_id}>" in self.text or f"<@{user_id}|" in self.text

    def to_slack(self, include_metadata: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message"}
        if self.subtype:
            out["subtype"] = self.subtype
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id
            if self.bot_profile:
                out["bot_profile"] = self.bot_profile
        out.update(text=self.text, ts=self.ts, team=self.team, blocks=self.blocks)
        if self.attachments:
            out["attachments"] = self.attachments
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.thread_ts == self.ts or self.reply_count:
            out.update(
                reply_count=self.reply_count,
                reply_users_count=len(self.reply_users),
                reply_users=list(self.reply_users),
                latest_reply=self.latest_reply or self.ts,
                is_locked=False,
                subscribed=False,
            )
        elif self.is_reply:
            out["parent_user_id"] = None
        if self.edited:
            out["edited"] = dict(self.edited)
        if self.metadata and include_metadata:
            out["metadata"] = self.metadata
        return out


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    description: str = ""

    def to_slack(self, team_id: str, include_users: bool = False) -> dict[str, Any]:
        out = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": 1732170000,
            "date_update": 1732170000,
            "date_delete": 0,
            "auto_type": None,
            "created_by": "",
            "updated_by": "",
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(self.users),
        }
        if include_users:
            out["users"] = list(self.users)
        return out


@dataclass
class View:
    """A modal (in a user's view stack) or an App Home tab."""

    id: str
    user_id: str
    definition: dict  # what the app sent: type, title, blocks, submit, close, callback_id, ...
    hash: str
    team_id: str
    app_id: str
    bot_id: str
    root_view_id: str | None = None
    previous_view_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # block_id -> message (response_action=errors)
    state_values: dict[str, dict] = field(default_factory=dict)
    # A modal opened from a click on a "danger" button: the page shows its submit as danger too.
    opened_from_style: str | None = None

    @property
    def type(self) -> str:
        return self.definition.get("type", "modal")

    @property
    def external_id(self) -> str:
        return self.definition.get("external_id", "")

    def to_slack(self) -> dict[str, Any]:
        d = self.definition
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": d.get("type", "modal"),
            "blocks": d.get("blocks", []),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": {"values": self.state_values},
            "hash": self.hash,
            "title": d.get("title"),
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "close": d.get("close"),
            "submit": d.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id or self.id,
            "app_id": self.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


@dataclass
class AssistantThread:
    channel_id: str
    thread_ts: str
    user_id: str
    status: str = ""
    title: str = ""
    prompts: list[dict] = field(default_factory=list)
    prompts_title: str = ""


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def rich_text_blocks(text: str) -> list[dict]:
    """A rich_text block like Slack derives from a plain message text (mentions become user elements)."""
    elements: list[dict] = []
    pos = 0
    for m in _MENTION.finditer(text):
        if m.start() > pos:
            elements.append({"type": "text", "text": text[pos : m.start()]})
        elements.append({"type": "user", "user_id": m.group(1)})
        pos = m.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    block_id = format(abs(hash(text)) % 16**5, "05x")
    return [{"type": "rich_text", "block_id": block_id, "elements": [{"type": "rich_text_section", "elements": elements}]}]


def with_block_ids(blocks: list[dict] | None) -> list[dict]:
    """Slack assigns a random block_id to blocks sent without one; interactions refer to it."""
    out = []
    for block in blocks or []:
        if isinstance(block, dict) and not block.get("block_id"):
            block = {**block, "block_id": format(abs(hash(repr(block))) % 36**4, "x")[:5] + str(len(out))}
        out.append(block)
    return out
