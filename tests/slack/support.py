"""Helpers shared by the Slack tests: reading answers the dev workspace received."""

from __future__ import annotations

import json
from typing import Any

from devslack import Delivery, Message, Workspace
from lumen.render.limits import check_blocks


def response_url_payloads(ws: Workspace, delivery: Delivery) -> list[dict[str, Any]]:
    """Everything the app posted to the response_url of a slash command delivery."""
    url = delivery.payload["response_url"]
    token = url.split("/response/", 1)[1]
    return ws.response_urls.by_token[token].log


def all_response_url_payloads(ws: Workspace) -> list[dict[str, Any]]:
    return [body for ru in ws.response_urls.by_token.values() for body in ru.log]


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """All text in a blocks payload, joined, for 'does it name X' assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def checked_blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The payload's blocks (as sent), asserted to be inside Slack's limits."""
    blocks = payload.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    assert isinstance(blocks, list) and blocks, f"no blocks in {payload!r}"
    check_blocks(blocks)
    return blocks


async def answer_to(ws: Workspace, user: str, channel: str, text: str) -> tuple[Delivery, Message, dict[str, Any]]:
    """Run `/lumen <text>`; return the ack delivery, the ephemeral answer and its raw payload.

    The answer comes in exactly one of two ways: in the ack itself, when it was ready at once
    (help, a status loaded a moment ago), or through the response_url after an empty ack.
    """
    before = len(ws.ephemeral_messages(channel, user))
    delivery = await ws.slash_command(user, channel, "/lumen", text)
    assert delivery.status == 200, (delivery.status, delivery.body)
    messages = await ws.wait_for(
        lambda: ws.ephemeral_messages(channel, user)[before:], timeout=5
    )
    assert len(messages) == 1, [m.text for m in messages]
    payloads = response_url_payloads(ws, delivery)
    if delivery.body:
        assert payloads == [], "answered in the ack and again on the response_url"
        return delivery, messages[0], delivery.json()
    assert len(payloads) == 1
    return delivery, messages[0], payloads[0]


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    """One sample from Prometheus text (0.0 if absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric == name or (labels and metric.startswith(name + "{") and _labels_match(metric, labels)):
            return float(value)
    return 0.0


def _labels_match(metric: str, labels: dict[str, str]) -> bool:
    inside = metric[metric.index("{") + 1 : metric.rindex("}")]
    found: dict[str, Any] = dict(
        part.split("=", 1) for part in inside.split(",") if "=" in part
    )
    return all(found.get(k, "").strip('"') == v for k, v in labels.items())
