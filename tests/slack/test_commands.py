"""`/lumen …` through the real interfaces: signed HTTP from the dev workspace to the Bolt app,
an empty ack, and the answer posted to the response_url as an ephemeral message."""

from __future__ import annotations

import re

from lumen.devmode import DevStack
from tests.slack.support import answer_to, block_texts, checked_blocks, response_url_payloads

SUBCOMMANDS = ("status", "approvals", "ask", "brain", "wake", "pause", "resume", "outcome", "budget", "help")


def assert_full_status(text: str) -> None:
    assert "Lumen status" in text
    for name, stage in (("Acme Analytics", "growth"), ("Brightbox Studio", "validation")):
        assert name in text
        assert stage in text
    assert "Approvals" in text and "Spend this month" in text
    # Agents, each with its next wake-up (acme: ceo + cmo; brightbox: ceo).
    agent_lines = re.findall(r"\*(ceo|cmo)\* · (?:fast|strong) · last [^·]+ · next (in [^\n]+)", text)
    assert sorted(role for role, _ in agent_lines) == ["ceo", "ceo", "cmo"], text


async def test_status_outside_a_venture_channel_names_every_venture(stack: DevStack) -> None:
    ws = stack.workspace
    _, message, payload = await answer_to(ws, "U0ALICE", "general", "status")
    assert message.ephemeral_user == "U0ALICE"
    assert payload.get("response_type") == "ephemeral"
    blocks = checked_blocks(payload)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Lumen status"}}
    assert_full_status(block_texts(blocks))
    assert "Acme Analytics" in message.text and "Brightbox Studio" in message.text  # fallback text
    # Nobody else sees it, and nothing was posted to the channel.
    assert ws.ephemeral_messages("general", "U0BOB") == []
    assert ws.messages("general") == []
    assert ws.calls_to("chat.postMessage") == []


async def test_status_in_a_venture_channel_shows_that_venture_and_all_shows_every_one(stack: DevStack) -> None:
    ws = stack.workspace
    _, message, payload = await answer_to(ws, "U0BOB", "venture-brightbox", "status")
    text = block_texts(checked_blocks(payload))
    assert "Brightbox Studio" in text and "Acme Analytics" not in text
    assert "`/lumen status all` shows every one" in text
    _, _, payload = await answer_to(ws, "U0BOB", "venture-brightbox", "status all")
    assert_full_status(block_texts(checked_blocks(payload)))
    assert "status all" not in block_texts(payload["blocks"])


async def test_status_of_one_venture(stack: DevStack) -> None:
    _, _, payload = await answer_to(stack.workspace, "U0ALICE", "venture-acme", "status acme")
    text = block_texts(checked_blocks(payload))
    assert "Acme Analytics" in text and "growth" in text
    assert "Brightbox Studio" not in text


async def test_status_of_a_misspelled_venture_suggests_one(stack: DevStack) -> None:
    _, message, payload = await answer_to(stack.workspace, "U0ALICE", "venture-acme", "status acmee")
    text = payload.get("text", "") + block_texts(payload.get("blocks") or [])
    assert re.search(r"did you mean .*acme", text, re.IGNORECASE), text
    assert "Brightbox Studio" not in text
    assert message.ephemeral_user == "U0ALICE"


async def test_help_lists_every_subcommand(stack: DevStack) -> None:
    _, _, payload = await answer_to(stack.workspace, "U0BOB", "venture-acme", "help")
    text = block_texts(checked_blocks(payload))
    assert "Lumen commands" in text
    for name in SUBCOMMANDS:
        assert f"/lumen {name}" in text, name
    assert "don't know" not in text


async def test_unknown_subcommand_answers_with_help(stack: DevStack) -> None:
    _, _, payload = await answer_to(stack.workspace, "U0BOB", "venture-acme", "frobnicate now")
    text = block_texts(checked_blocks(payload))
    assert "frobnicate" in text and "don't know" in text
    assert "/lumen status" in text
    assert "frobnicate" in payload["text"]


async def test_bare_command_answers_with_help(stack: DevStack) -> None:
    _, _, payload = await answer_to(stack.workspace, "U0BOB", "venture-acme", "")
    text = block_texts(checked_blocks(payload))
    assert "Lumen commands" in text and "/lumen status" in text
    assert "don't know" not in text


async def test_status_over_socket_mode(socket_stack: DevStack) -> None:
    ws = socket_stack.workspace
    assert ws.request_url is None and ws.socket_hub.connected
    delivery, message, payload = await answer_to(ws, "U0ALICE", "venture-acme", "status all")
    assert delivery.transport == "socket"
    assert message.ephemeral_user == "U0ALICE"
    assert_full_status(block_texts(checked_blocks(payload)))


def test_every_subcommand_in_help_has_a_handler() -> None:
    from lumen.slack.commands import SUBCOMMANDS
    from lumen.slack.listeners.commands import HANDLERS

    assert set(SUBCOMMANDS) == set(HANDLERS)


async def test_an_answer_ready_at_once_comes_in_the_ack(stack: DevStack) -> None:
    """Help, and a status another asker loaded a moment ago, need no I/O: they come back in
    the ack itself, and no second request goes to Slack. The first status is loaded after an
    empty ack and answered on the response_url."""
    ws = stack.workspace
    first, _, loaded = await answer_to(ws, "U0ALICE", "general", "status")
    assert first.body == "" and response_url_payloads(ws, first) == [loaded]
    again, message, payload = await answer_to(ws, "U0BOB", "general", "status")
    assert again.body and response_url_payloads(ws, again) == []
    assert payload["response_type"] == "ephemeral" and message.ephemeral_user == "U0BOB"
    assert checked_blocks(payload) == checked_blocks(loaded)
    help_ack, _, help_payload = await answer_to(ws, "U0CAROL", "general", "help")
    assert help_ack.body and "Lumen commands" in block_texts(checked_blocks(help_payload))
