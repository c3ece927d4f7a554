"""What a human does in the workspace — type, run /commands, click, submit modals, open tabs —
and how Slack turns each of those into deliveries to the app and visible results."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from . import payloads
from .delivery import INTERACTIVE, SLASH, Delivery
from .models import AssistantThread, Channel, Message, User, View

if TYPE_CHECKING:
    from .workspace import Workspace

SLACKBOT = "USLACKBOT"


class UserActions:
    """Mixin for Workspace. All methods are async and deliver to the app like Slack would."""

    # -- lookups shared by the actions ---------------------------------------------
    def _user(self: "Workspace", user_id: str) -> User:
        user = self.find_user(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id!r}")
        return user

    def _channel(self: "Workspace", ref: str) -> Channel:
        channel = self.resolve_channel(ref)
        if channel is None:
            raise LookupError(f"unknown channel {ref!r}")
        return channel

    def response_url_for(self: "Workspace", token: str) -> str:
        return f"{self.base_url}/response/{token}"

    def mentionify(self: "Workspace", text: str) -> str:
        """Turn ``@name`` typed by a human into ``<@ID>`` like the Slack client does."""
        def repl(m: re.Match) -> str:
            name = m.group(1)
            user = self.find_user(name) or self.find_user(name.rstrip(".-"))
            if user is None:
                return m.group(0)
            return f"<@{user.id}>" + name[len(user.name):]
        return re.sub(r"(?<![<\w])@([a-z][\w.-]*)", repl, text)

    # -- messages ---------------------------------------------------------------------
    async def send_message(self: "Workspace", user_id: str, channel: str, text: str, thread_ts: str | None = None, *, wait: bool = True) -> Message:
        """Post ``text`` as the user and deliver the events Slack would (app_mention, message.im, ...).
        With ``wait`` the call returns after the deliveries (incl. retries) are finished."""
        user, ch = self._user(user_id), self._channel(channel)
        if user.id not in ch.members:
            ch.members.append(user.id)
        msg = self.post(ch.id, user=user.id, text=text, thread_ts=thread_ts)
        events = []
        if ch.is_im:
            if "message.im" in self.event_subscriptions:
                events.append(payloads.message_event(msg, ch))
        else:
            if msg.mentions(self.bot.id) and self.bot.id in ch.members and "app_mention" in self.event_subscriptions:
                events.append(payloads.message_event(msg, ch, as_mention=True))
            kind = "message.groups" if ch.is_private else "message.channels"
            if kind in self.event_subscriptions and self.bot.id in ch.members:
                events.append(payloads.message_event(msg, ch))
        job = self._deliver_events(events)
        if wait:
            await job
        else:
            self.in_background(job)
        return msg

    async def _deliver_events(self: "Workspace", events: list[dict]) -> list[Delivery]:
        return [await self.deliver_event(e) for e in events]

    # -- slash commands ------------------------------------------------------------------
    async def slash_command(self: "Workspace", user_id: str, channel: str, command: str, text: str = "") -> Delivery:
        """Run ``/command text`` as the user. Returns the Delivery (``.status``, ``.body``, ``.json()``);
        a non-empty ack body is shown like Slack does (ephemeral, or in channel for response_type=in_channel)."""
        user, ch = self._user(user_id), self._channel(channel)
        command = command if command.startswith("/") else "/" + command
        trigger = self.triggers.issue(user.id)
        ru = self.response_urls.issue(user.id, ch.id)
        payload = payloads.slash_command(self, user, ch, command, text, trigger, self.response_url_for(ru.token))
        delivery = await self.deliverer.deliver(SLASH, payload)
        if not delivery.ok:
            reason = "operation_timeout" if delivery.error in ("http_timeout", "timeout") else "dispatch_failed"
            self.post(ch.id, user=SLACKBOT, text=f'{command} failed with the error "{reason}"', ephemeral_user=user.id)
        elif delivery.body.strip():
            body = delivery.json()
            if not isinstance(body, dict):
                body = {"text": delivery.body}
            self.show_response(body, user_id=user.id, channel_id=ch.id, command_echo=f"{command} {text}".strip())
        return delivery

    def show_response(self: "Workspace", body: dict, *, user_id: str, channel_id: str, command_echo: str | None = None, thread_ts: str | None = None) -> Message | None:
        """Render an ack body / response_url payload as a new message (ephemeral unless in_channel)."""
        text, blocks = body.get("text") or "", body.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not text and not blocks:
            return None
        thread_ts = body.get("thread_ts") or thread_ts
        if body.get("response_type") == "in_channel":
            if command_echo:
                self.post(channel_id, user=user_id, text=command_echo, thread_ts=thread_ts)
            return self.post(channel_id, as_bot=True, text=text, blocks=blocks, thread_ts=thread_ts)
        return self.post(channel_id, as_bot=True, text=text, blocks=blocks, thread_ts=thread_ts, ephemeral_user=user_id)

    # -- interactivity ----------------------------------------------------------------------
    async def click(self: "Workspace", user_id: str, channel: str, ts: str, action_id: str, value: Any = None) -> Delivery:
        """Click a button (or pick ``value`` in a select/overflow) with ``action_id`` in message ``ts``."""
        user, ch = self._user(user_id), self._channel(channel)
        msg = self.find_message(ch.id, ts) or self.find_ephemeral(ch.id, ts, user.id)
        if msg is None:
            raise LookupError(f"no message {ts} in {channel}")
        block_id, element = find_element(msg.blocks, action_id)
        trigger = self.triggers.issue(user.id, source_style=element.get("style"))
        ru = self.response_urls.issue(
            user.id, ch.id, source_ts=msg.ts, source_ephemeral=bool(msg.ephemeral_user), thread_ts=msg.thread_ts if msg.is_reply else None
        )
        payload = payloads.interaction_base(self, "block_actions", user, trigger)
        payload.update(
            container={"type": "message", "message_ts": msg.ts, "channel_id": ch.id, "is_ephemeral": bool(msg.ephemeral_user)},
            channel={"id": ch.id, "name": "directmessage" if ch.is_im else ch.name},
            message=msg.to_slack(),
            state={"values": {}},
            response_url=self.response_url_for(ru.token),
            actions=[payloads.block_action(element, block_id, value)],
        )
        return await self.deliverer.deliver(INTERACTIVE, payload)

    async def click_in_view(self: "Workspace", user_id: str, view_id: str, action_id: str, value: Any = None, values: dict | None = None) -> Delivery:
        """Click/select an element inside a modal or the App Home (``values``: current input values)."""
        user, view = self._user(user_id), self._view(view_id)
        block_id, element = find_element(view.definition.get("blocks", []), action_id)
        if values is not None:
            view.state_values = payloads.view_state(view, values)
        trigger = self.triggers.issue(user.id, source_style=element.get("style"))
        payload = payloads.interaction_base(self, "block_actions", user, trigger)
        payload.update(
            container={"type": "view", "view_id": view.id},
            view=view.to_slack(),
            actions=[payloads.block_action(element, block_id, value)],
        )
        return await self.deliverer.deliver(INTERACTIVE, payload)

    def _view(self: "Workspace", view_id: str) -> View:
        view = self.find_view(view_id)
        if view is None:
            raise LookupError(f"no open view {view_id}")
        return view

    async def submit_view(self: "Workspace", user_id: str, view_id: str | None = None, values: dict | None = None) -> Delivery:
        """Press Submit on a modal (default: the user's top modal). ``values``: {block_id: value | {action_id: value}}.
        Applies the ack like Slack: errors / update / push / clear / (empty) close."""
        user = self._user(user_id)
        view = self._view(view_id) if view_id else self.current_modal(user.id)
        if view is None:
            raise LookupError(f"{user_id} has no open modal")
        view.state_values = payloads.view_state(view, values)
        payload = payloads.interaction_base(self, "view_submission", user, self.triggers.issue(user.id))
        payload.update(view=view.to_slack(), response_urls=[])
        delivery = await self.deliverer.deliver(INTERACTIVE, payload)
        self._apply_submission_ack(view, delivery)
        return delivery

    def _apply_submission_ack(self: "Workspace", view: View, delivery: Delivery) -> None:
        if not delivery.ok:
            self.set_view_errors(view, {"": "We had some trouble connecting. Try again?"})
            return
        body = delivery.json() if delivery.body.strip() else {}
        action = body.get("response_action") if isinstance(body, dict) else None
        if action == "errors":
            self.set_view_errors(view, body.get("errors") or {})
        elif action == "update":
            self.replace_view(view, body.get("view") or {})
        elif action == "push":
            self.push_modal(view.user_id, body.get("view") or {})
        elif action == "clear":
            self.close_modal(view.user_id, clear=True)
        else:
            self.close_modal(view.user_id, view.id)

    async def close_view(self: "Workspace", user_id: str, view_id: str | None = None) -> Delivery | None:
        """Press Close/X. Sends ``view_closed`` only if the view asked for notify_on_close."""
        user = self._user(user_id)
        view = self._view(view_id) if view_id else self.current_modal(user.id)
        if view is None:
            return None
        self.close_modal(user.id, view.id)
        if not view.definition.get("notify_on_close"):
            return None
        payload = payloads.interaction_base(self, "view_closed", user, self.triggers.issue(user.id))
        payload.update(view=view.to_slack(), is_cleared=False)
        return await self.deliverer.deliver(INTERACTIVE, payload)

    # -- tabs and assistant ---------------------------------------------------------------
    async def open_home(self: "Workspace", user_id: str) -> Delivery | None:
        """Open the app's Home tab -> ``app_home_opened``."""
        user = self._user(user_id)
        dm = self.dm_with(user.id)
        event: dict[str, Any] = {"type": "app_home_opened", "user": user.id, "channel": dm.id, "tab": "home", "event_ts": self._clock.next()}
        if user.id in self.home_views:
            event["view"] = self.home_views[user.id].to_slack()
        if "app_home_opened" not in self.event_subscriptions:
            return None
        return await self.deliver_event(event)

    async def open_assistant_thread(self: "Workspace", user_id: str, context_channel: str | None = None) -> AssistantThread:
        """Open a new assistant thread in the user's DM with the app -> ``assistant_thread_started``.
        Reply in it with ``send_message(user, thread.channel_id, text, thread_ts=thread.thread_ts)``."""
        user = self._user(user_id)
        dm = self.dm_with(user.id)
        root = self.post(dm.id, as_bot=True, text="", subtype="assistant_app_thread")
        thread = self.assistant_thread(dm.id, root.ts)
        thread.user_id = user.id
        context: dict[str, Any] = {"team_id": self.team_id, "enterprise_id": None}
        if context_channel:
            context["channel_id"] = self._channel(context_channel).id
        event = {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": user.id, "context": context, "channel_id": dm.id, "thread_ts": root.ts},
            "event_ts": self._clock.next(),
        }
        if "assistant_thread_started" in self.event_subscriptions:
            await self.deliver_event(event)
        return thread


def find_element(blocks: list[dict], action_id: str) -> tuple[str, dict]:
    """Locate an interactive element by action_id in actions/section/input/context blocks."""
    for block in blocks:
        candidates = list(block.get("elements") or []) if block.get("type") in ("actions", "context") else []
        if block.get("accessory"):
            candidates.append(block["accessory"])
        if block.get("element"):
            candidates.append(block["element"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    raise LookupError(f"no element with action_id {action_id!r}")
