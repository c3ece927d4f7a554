"""In-memory workspace state: people, channels, messages, views; plus change notifications.

Every mutation calls ``_changed`` so the page (over /ui/ws) and ``wait_for`` see it immediately.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any, Callable

from .ids import TsClock, random_id
from .models import AssistantThread, Channel, Message, User, UserGroup, View, rich_text_blocks, with_block_ids

Listener = Callable[[dict], None]


class WorkspaceState:
    def __init__(
        self,
        *,
        team_id: str = "T0DEV",
        team_name: str = "Lumen Dev",
        domain: str = "lumen-dev",
        app_id: str = "A0LUMEN",
        bot_user_id: str = "U0LUMENBOT",
        bot_name: str = "lumen",
        bot_id: str = "B0LUMEN",
    ) -> None:
        self.team_id, self.team_name, self.domain = team_id, team_name, domain
        self.app_id = app_id
        self.bot = User(id=bot_user_id, name=bot_name, real_name=bot_name.capitalize(), is_bot=True, bot_id=bot_id)
        self.users: dict[str, User] = {self.bot.id: self.bot}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.modal_stacks: dict[str, list[View]] = {}
        self.home_views: dict[str, View] = {}
        self.assistant_threads: dict[tuple[str, str], AssistantThread] = {}
        self._messages: dict[str, list[Message]] = {}
        self._ephemeral: dict[str, list[Message]] = {}
        self._clock = TsClock()
        self._listeners: list[Listener] = []
        self._waiters: list[asyncio.Future] = []

    # ---- change notification -------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self, change: dict) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # a broken page socket must not break the workspace
                pass
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(change)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Re-evaluate ``predicate()`` after every state change; return its first truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"wait_for: condition not met within {timeout}s")
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, min(remaining, 0.25))  # also poll: predicates may read outside state
            except asyncio.TimeoutError:
                pass

    # ---- people --------------------------------------------------------------
    def add_user(self, id: str, name: str, real_name: str = "", **kw: Any) -> User:
        user = User(id=id, name=name, real_name=real_name or name.capitalize(), email=kw.pop("email", f"{name}@example.com"), **kw)
        self.users[id] = user
        self._changed({"type": "users"})
        return user

    def humans(self) -> list[User]:
        return [u for u in self.users.values() if not u.is_bot]

    def find_user(self, ref: str) -> User | None:
        ref = ref.lstrip("@")
        return self.users.get(ref) or next((u for u in self.users.values() if u.name == ref), None)

    def add_usergroup(self, handle: str, users: list[str], name: str = "", id: str | None = None) -> UserGroup:
        group = UserGroup(id=id or random_id("S"), handle=handle, name=name or handle, users=list(users))
        self.usergroups[group.id] = group
        return group

    # ---- channels ------------------------------------------------------------
    def ensure_channel(
        self, name: str, members: list[str] | None = None, *, is_private: bool = False, topic: str = "", with_bot: bool = True
    ) -> Channel:
        """Get or create a channel by name; the bot is a member of channels it creates/joins."""
        name = name.lstrip("#")
        channel = self.channel_by_name(name)
        if channel is None:
            channel = Channel(id=random_id("C"), name=name, is_private=is_private, topic=topic, creator=self.bot.id)
            self.channels[channel.id] = channel
        wanted = list(members if members is not None else [u.id for u in self.humans()])
        if with_bot:
            wanted.append(self.bot.id)
        for uid in wanted:
            if uid not in channel.members:
                channel.members.append(uid)
        self._changed({"type": "channels"})
        return channel

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if not c.is_im and c.name == name), None)

    def dm_with(self, user_id: str) -> Channel:
        """The bot's DM channel with ``user_id`` (created on first use, like conversations.open)."""
        for c in self.channels.values():
            if c.is_im and c.im_user == user_id:
                return c
        user = self.users[user_id]
        channel = Channel(id=random_id("D"), name=user.name, is_im=True, im_user=user_id, members=[user_id, self.bot.id])
        self.channels[channel.id] = channel
        self._changed({"type": "channels"})
        return channel

    def resolve_channel(self, ref: str) -> Channel | None:
        """Accepts an id (C/G/D), a name with or without '#', or a user id (-> DM with the bot)."""
        if ref in self.channels:
            return self.channels[ref]
        if ref[:1] in ("U", "W") and ref in self.users and not self.users[ref].is_bot:
            return self.dm_with(ref)
        return self.channel_by_name(ref.lstrip("#"))

    # ---- messages ------------------------------------------------------------
    def post(
        self,
        channel_id: str,
        *,
        user: str | None = None,
        as_bot: bool = False,
        text: str = "",
        blocks: list[dict] | None = None,
        thread_ts: str | None = None,
        metadata: dict | None = None,
        attachments: list[dict] | None = None,
        ephemeral_user: str | None = None,
        subtype: str | None = None,
    ) -> Message:
        msg = Message(
            channel=channel_id,
            ts=self._clock.next(),
            text=text,
            blocks=with_block_ids(blocks) if blocks else rich_text_blocks(text) if text else [],
            generated_blocks=not blocks,
            user=self.bot.id if as_bot else user,
            thread_ts=thread_ts,
            metadata=metadata,
            attachments=attachments,
            ephemeral_user=ephemeral_user,
            team=self.team_id,
            subtype=subtype,
        )
        if as_bot:
            msg.bot_id, msg.app_id = self.bot.bot_id, self.app_id
            msg.bot_profile = {"id": self.bot.bot_id, "app_id": self.app_id, "name": self.bot.name, "team_id": self.team_id, "deleted": False, "icons": {}}
        if ephemeral_user:
            self._ephemeral.setdefault(channel_id, []).append(msg)
        else:
            self._messages.setdefault(channel_id, []).append(msg)
            if thread_ts:
                self._note_reply(channel_id, thread_ts, msg)
        self._changed({"type": "message", "op": "new", "channel": channel_id, "ts": msg.ts, "thread_ts": thread_ts, "ephemeral_user": ephemeral_user})
        return msg

    def _note_reply(self, channel_id: str, thread_ts: str, reply: Message) -> None:
        parent = self.find_message(channel_id, thread_ts)
        if parent is None:
            return
        parent.thread_ts = parent.ts
        parent.reply_count += 1
        parent.latest_reply = reply.ts
        author = reply.user or reply.bot_id
        if author and author not in parent.reply_users:
            parent.reply_users.append(author)
        self._changed({"type": "message", "op": "updated", "channel": channel_id, "ts": parent.ts, "thread_ts": None, "ephemeral_user": None})

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        return next((m for m in self._messages.get(channel_id, []) if m.ts == ts), None)

    def find_ephemeral(self, channel_id: str, ts: str, user_id: str | None = None) -> Message | None:
        return next(
            (m for m in self._ephemeral.get(channel_id, []) if m.ts == ts and (user_id is None or m.ephemeral_user == user_id)),
            None,
        )

    def update_message(self, msg: Message, *, text: str | None = None, blocks: list[dict] | None = None, editor: str | None = None, **fields: Any) -> Message:
        if text is not None:
            msg.text = text
            if blocks is None and msg.generated_blocks:
                msg.blocks = rich_text_blocks(text) if text else []
        if blocks is not None:
            msg.blocks, msg.generated_blocks = with_block_ids(blocks), False
        for key, value in fields.items():
            setattr(msg, key, value)
        if editor and not msg.ephemeral_user:
            msg.edited = {"user": editor, "ts": self._clock.next()}
        self._changed({"type": "message", "op": "updated", "channel": msg.channel, "ts": msg.ts, "thread_ts": msg.thread_ts if msg.is_reply else None, "ephemeral_user": msg.ephemeral_user})
        return msg

    def delete_message(self, msg: Message) -> None:
        store = self._ephemeral if msg.ephemeral_user else self._messages
        store[msg.channel] = [m for m in store.get(msg.channel, []) if m is not msg]
        if msg.is_reply and not msg.ephemeral_user:
            parent = self.find_message(msg.channel, msg.thread_ts or "")
            if parent:
                parent.reply_count = max(0, parent.reply_count - 1)
        self._changed({"type": "message", "op": "deleted", "channel": msg.channel, "ts": msg.ts, "thread_ts": msg.thread_ts if msg.is_reply else None, "ephemeral_user": msg.ephemeral_user})

    def messages(self, channel: str, *, include_replies: bool = True) -> list[Message]:
        """All (non-ephemeral) messages of a channel, oldest first. ``channel``: id or name."""
        ch = self.resolve_channel(channel)
        msgs = self._messages.get(ch.id, []) if ch else []
        return [m for m in msgs if include_replies or not m.is_reply]

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        return [m for m in self._messages.get(channel_id, []) if m.ts == thread_ts or m.thread_ts == thread_ts]

    def ephemeral_messages(self, channel: str, user_id: str | None = None) -> list[Message]:
        ch = self.resolve_channel(channel)
        msgs = self._ephemeral.get(ch.id, []) if ch else []
        return [m for m in msgs if user_id is None or m.ephemeral_user == user_id]

    def visible_messages(self, channel_id: str, viewer: str, thread_ts: str | None = None) -> list[Message]:
        """What ``viewer`` sees: top level (or one thread) plus their own ephemerals, oldest first."""
        if thread_ts:
            shared = self.thread(channel_id, thread_ts)
        else:
            shared = [m for m in self._messages.get(channel_id, []) if not m.is_reply]
        own = [
            m for m in self._ephemeral.get(channel_id, [])
            if m.ephemeral_user == viewer and ((m.thread_ts == thread_ts) if thread_ts else not m.thread_ts)
        ]
        return sorted(shared + own, key=lambda m: float(m.ts))

    # ---- views ---------------------------------------------------------------
    def _new_view(self, user_id: str, definition: dict, **kw: Any) -> View:
        definition = {**definition, "blocks": with_block_ids(definition.get("blocks"))}
        return View(
            id=random_id("V"), user_id=user_id, definition=dict(definition), hash=_view_hash(definition),
            team_id=self.team_id, app_id=self.app_id, bot_id=self.bot.bot_id or "", **kw,
        )

    def open_modal(self, user_id: str, definition: dict, *, opened_from_style: str | None = None) -> View:
        view = self._new_view(user_id, definition, opened_from_style=opened_from_style)
        self.modal_stacks[user_id] = [view]
        self._changed({"type": "view", "op": "opened", "user": user_id, "view_id": view.id})
        return view

    def push_modal(self, user_id: str, definition: dict) -> View:
        stack = self.modal_stacks.setdefault(user_id, [])
        root = stack[0].id if stack else None
        view = self._new_view(user_id, definition, root_view_id=root, previous_view_id=stack[-1].id if stack else None)
        stack.append(view)
        self._changed({"type": "view", "op": "opened", "user": user_id, "view_id": view.id})
        return view

    def find_view(self, view_id: str | None = None, external_id: str | None = None) -> View | None:
        candidates = [v for stack in self.modal_stacks.values() for v in stack] + list(self.home_views.values())
        for v in candidates:
            if (view_id and v.id == view_id) or (external_id and v.external_id == external_id):
                return v
        return None

    def replace_view(self, view: View, definition: dict) -> View:
        definition = {**definition, "blocks": with_block_ids(definition.get("blocks"))}
        view.definition, view.hash, view.errors = definition, _view_hash(definition), {}
        self._changed({"type": "home" if view.type == "home" else "view", "op": "updated", "user": view.user_id, "view_id": view.id})
        return view

    def current_modal(self, user_id: str) -> View | None:
        stack = self.modal_stacks.get(user_id) or []
        return stack[-1] if stack else None

    def close_modal(self, user_id: str, view_id: str | None = None, *, clear: bool = False) -> None:
        stack = self.modal_stacks.get(user_id) or []
        if clear:
            stack.clear()
        elif stack and (view_id is None or stack[-1].id == view_id):
            stack.pop()
        self._changed({"type": "view", "op": "closed", "user": user_id, "view_id": view_id})

    def set_view_errors(self, view: View, errors: dict[str, str]) -> None:
        view.errors = dict(errors)
        self._changed({"type": "view", "op": "updated", "user": view.user_id, "view_id": view.id})

    def publish_home(self, user_id: str, definition: dict) -> View:
        view = self.home_views.get(user_id)
        if view is None:
            view = self._new_view(user_id, definition)
            self.home_views[user_id] = view
        else:
            definition = {**definition, "blocks": with_block_ids(definition.get("blocks"))}
            view.definition, view.hash = definition, _view_hash(definition)
        self._changed({"type": "home", "op": "published", "user": user_id, "view_id": view.id})
        return view

    # ---- assistant threads -----------------------------------------------------
    def assistant_thread(self, channel_id: str, thread_ts: str) -> AssistantThread:
        key = (channel_id, thread_ts)
        if key not in self.assistant_threads:
            ch = self.channels.get(channel_id)
            self.assistant_threads[key] = AssistantThread(channel_id, thread_ts, ch.im_user if ch and ch.im_user else "")
        return self.assistant_threads[key]

    def assistant_changed(self, thread: AssistantThread) -> None:
        self._changed({"type": "assistant", "channel": thread.channel_id, "thread_ts": thread.thread_ts})


def _view_hash(definition: dict) -> str:
    return f"{int(time.time())}.{hashlib.sha1(repr(sorted(definition.items(), key=str)).encode() + str(time.time_ns()).encode()).hexdigest()[:8]}"
