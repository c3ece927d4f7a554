"""Keeping a workspace across restarts: its people, channels (with their IDs), messages,
threads and App Home tabs, in one JSON file.

Slack keeps all of that, so an app restarted against the same workspace finds its old
messages where it left them: an approval posted yesterday can still be updated today.
What Slack does not keep is not saved either: ephemeral messages, open modals, trigger
ids and response URLs.

Saving follows every change, a moment later (changes come in bursts), and once more on
close; the file is replaced atomically, so a crash leaves the previous version whole.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import AssistantThread, Channel, Message, User, UserGroup, View

if TYPE_CHECKING:
    from .workspace import Workspace

FORMAT = 1
SAVE_DELAY = 0.3  # seconds: one write for a burst of changes


class UnreadableWorkspace(Exception):
    """The saved workspace cannot be read back (another format, or a damaged file)."""


def _record(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


def snapshot(ws: "Workspace") -> dict[str, Any]:
    return {
        "format": FORMAT,
        "team": {"id": ws.team_id, "name": ws.team_name, "domain": ws.domain},
        "users": [asdict(u) for u in ws.users.values()],
        "channels": [asdict(c) for c in ws.channels.values()],
        "usergroups": [asdict(g) for g in ws.usergroups.values()],
        "messages": [asdict(m) for msgs in ws._messages.values() for m in msgs],
        "home_views": [
            {"id": v.id, "user_id": v.user_id, "definition": v.definition, "hash": v.hash}
            for v in ws.home_views.values()
        ],
        "assistant_threads": [
            {"channel_id": t.channel_id, "thread_ts": t.thread_ts, "user_id": t.user_id, "title": t.title}
            for t in ws.assistant_threads.values()
        ],
    }


def restore(ws: "Workspace", data: dict[str, Any]) -> None:
    """Put a snapshot's contents into ``ws`` (users it lacks are kept; everything else is replaced)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UnreadableWorkspace(f"not a devslack workspace of format {FORMAT}")
    try:
        for raw in data["users"]:
            user = _record(User, raw)
            ws.users[user.id] = user
        ws.channels = {c.id: c for c in (_record(Channel, raw) for raw in data["channels"])}
        ws.usergroups = {g.id: g for g in (_record(UserGroup, raw) for raw in data["usergroups"])}
        ws._messages = {}
        latest = 0.0
        for raw in data["messages"]:
            msg = _record(Message, raw)
            ws._messages.setdefault(msg.channel, []).append(msg)
            latest = max(latest, float(msg.ts))
        for msgs in ws._messages.values():
            msgs.sort(key=lambda m: float(m.ts))
        ws._clock.at_least(latest)
        ws.home_views = {}
        for raw in data["home_views"]:
            ws.home_views[raw["user_id"]] = View(
                id=raw["id"], user_id=raw["user_id"], definition=raw["definition"], hash=raw["hash"],
                team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot.bot_id or "",
            )
        ws.assistant_threads = {}
        for raw in data["assistant_threads"]:
            thread = AssistantThread(raw["channel_id"], raw["thread_ts"], raw["user_id"], title=raw.get("title", ""))
            ws.assistant_threads[(thread.channel_id, thread.thread_ts)] = thread
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadableWorkspace(f"damaged workspace file: {exc}") from None


def write(ws: "Workspace", path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(snapshot(ws), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise UnreadableWorkspace(f"{path}: not JSON ({exc})") from None


class Autosave:
    """Writes the workspace to ``path`` shortly after each change, and on ``flush()``."""

    def __init__(self, ws: "Workspace", path: Path) -> None:
        self.ws, self.path = ws, path
        self._pending: asyncio.TimerHandle | None = None
        self._unsubscribe = ws.subscribe(self._on_change)

    def _on_change(self, change: dict) -> None:
        if change.get("ephemeral_user") or change.get("type") == "view":
            return  # ephemerals and modals are not kept
        if self._pending is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # changed outside a loop (set-up code): save right away
                write(self.ws, self.path)
                return
            self._pending = loop.call_later(SAVE_DELAY, self.flush)

    def flush(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        write(self.ws, self.path)

    def close(self) -> None:
        self._unsubscribe()
        self.flush()
