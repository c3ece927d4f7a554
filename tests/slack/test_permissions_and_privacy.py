"""Who may act on a venture's agents, and who may see a private venture, through signed slash
commands and clicks from the dev workspace.

The workspace: Alice is Lumen's admin, Alice and Bob approve gates, Carol and Dan are team
members. Zenith is private: only Alice and Carol are in #venture-zenith. Dan has left
#venture-acme."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from devslack import Workspace
from lumen.agents import service as agents
from lumen.container import Container
from lumen.db.models import AgentStatus, Run
from lumen.devmode import DevStack, dev_stack
from lumen.domain.config import AgentConfig, LumenConfig, PlaybookAction, VentureConfig
from lumen.domain.permissions import PermissionRules
from lumen.render.decisions import TRAIL_ACTION
from lumen.render.outcomes import RECORD_ACTION
from tests.engine.helpers import all_rows, decision_ids_posted
from tests.slack.support import response_url_payloads

NOT_FOUND = "No venture called “zenith”."


@pytest.fixture
def example_config(example_config: LumenConfig) -> LumenConfig:
    zenith = VentureConfig(
        slug="zenith", name="Zenith Labs", channel="venture-zenith", private=True,
        agents=(AgentConfig(role="ceo", schedule="0 9 * * 1"),),
        playbook=(PlaybookAction(title="Interview ten design leads about handoffs", category="research"),),
    )
    return example_config.model_copy(
        update={"ventures": (*example_config.ventures, zenith), "permissions": PermissionRules(admins=("U0ALICE",))}
    )


@pytest.fixture
async def stack(container: Container) -> AsyncIterator[DevStack]:
    ws = Workspace.demo(retry_delays=(0.05, 0.05, 0.05))
    async with dev_stack(container.settings, container.config, workspace=ws) as running:
        zenith, acme = ws.channel_by_name("venture-zenith"), ws.channel_by_name("venture-acme")
        assert zenith is not None and acme is not None
        for user in ("U0BOB", "U0DAN"):
            zenith.members.discard(user) if isinstance(zenith.members, set) else zenith.members.remove(user)
        acme.members.discard("U0DAN") if isinstance(acme.members, set) else acme.members.remove("U0DAN")
        yield running


async def said(ws: Workspace, user: str, channel: str, text: str) -> str:
    """What Lumen answered to `/lumen text`: in the ack, or on the response_url."""
    delivery = await ws.slash_command(user, channel, "/lumen", text)
    assert delivery.status == 200, delivery.body
    if delivery.body.strip():
        return str(delivery.json())
    [reply] = await ws.wait_for(lambda: response_url_payloads(ws, delivery), timeout=10)
    return str(reply)


# --- privacy ---------------------------------------------------------------------------------


async def test_a_private_venture_does_not_exist_for_someone_outside_it(stack: DevStack) -> None:
    ws = stack.workspace
    for text in ("status", "status all", "budget", "costs"):
        answer = await said(ws, "U0DAN", "general", text)
        assert "Zenith" not in answer and "zenith" not in answer, text
        assert "Acme" in answer or "acme" in answer
    for text in ("status zenith", "brain zenith", "budget zenith", "costs zenith", "wake zenith ceo", "pause zenith"):
        assert NOT_FOUND in await said(ws, "U0DAN", "general", text), text
    # A near miss answers as it would for any unknown name: no "did you mean Zenith".
    near = await said(ws, "U0DAN", "general", "status zenit")
    assert "No venture called “zenit”." in near and "Zenith" not in near and "zenith" not in near


async def test_a_member_sees_it_where_only_members_read(stack: DevStack) -> None:
    ws = stack.workspace
    assert "Zenith Labs" in await said(ws, "U0CAROL", "venture-zenith", "status zenith")
    # In #general, where Dan reads too, not even Carol's answer names it.
    assert NOT_FOUND in await said(ws, "U0CAROL", "general", "status zenith")
    assert "*zenith/ceo*" in await said(ws, "U0CAROL", ws.dm_with("U0CAROL").id, "budget")


async def test_app_home_lists_a_private_venture_to_its_members_only(stack: DevStack) -> None:
    ws = stack.workspace
    await ws.open_home("U0DAN")
    await ws.open_home("U0CAROL")
    dan = await ws.wait_for(lambda: ws.home_views.get("U0DAN"), timeout=10)
    carol = await ws.wait_for(lambda: ws.home_views.get("U0CAROL"), timeout=10)
    assert "Acme Analytics" in str(dan.definition) and "Zenith" not in str(dan.definition)
    assert "Zenith Labs" in str(carol.definition)


async def test_a_private_decisions_id_in_another_channels_button_shows_nothing(stack: DevStack, container: Container) -> None:
    ws = stack.workspace
    zenith = ws.channel_by_name("venture-zenith")
    await said(ws, "U0ALICE", "venture-zenith", "wake zenith ceo")
    [decision_id, *_] = await ws.wait_for(lambda: decision_ids_posted(ws.messages("venture-zenith")), timeout=20)
    # Dan copies a card of Acme's, with the private decision's id in its buttons.
    await said(ws, "U0ALICE", "venture-acme", "wake acme cmo")
    await ws.wait_for(lambda: decision_ids_posted(ws.messages("venture-acme")), timeout=20)
    acme = ws.channel_by_name("venture-acme")
    card = next(m for m in ws.messages("venture-acme") if not m.is_reply and m.bot_id and TRAIL_ACTION in str(m.blocks))
    forged = _with_value(card.blocks, str(decision_id))
    card.blocks = forged
    await ws.click("U0CAROL", acme.id, card.ts, TRAIL_ACTION)
    await ws.click("U0CAROL", acme.id, card.ts, RECORD_ACTION)
    await _settle(ws)
    assert [m for m in ws.thread(acme.id, card.ts) if m.ts != card.ts] == []
    assert ws.current_modal("U0CAROL") is None
    assert zenith is not None and all("Zenith" not in str(m.blocks) for m in ws.messages("venture-acme"))


def _with_value(blocks: list[dict[str, Any]], value: str) -> list[dict[str, Any]]:
    out = []
    for block in blocks:
        if block.get("type") == "actions":
            block = {**block, "elements": [{**e, "value": value} for e in block["elements"]]}
        out.append(block)
    return out


async def _settle(ws: Workspace) -> None:
    import asyncio

    await asyncio.sleep(1.5)


# --- permissions -----------------------------------------------------------------------------


async def test_pausing_resuming_and_outcomes_are_for_the_ventures_people(stack: DevStack, container: Container) -> None:
    ws = stack.workspace
    refused = await said(ws, "U0DAN", "general", "pause acme")
    assert "Only Lumen's admins, Acme Analytics's approvers or the members of #venture-acme may pause" in refused
    assert await _statuses(container, "acme") == {AgentStatus.ACTIVE}

    assert "paused" in await said(ws, "U0CAROL", "venture-acme", "pause acme cmo")
    refused = await said(ws, "U0CAROL", "venture-acme", "resume acme cmo")
    assert "Only Lumen's admins or Acme Analytics's approvers may resume" in refused
    assert "resumed" in await said(ws, "U0BOB", "venture-acme", "resume acme cmo")

    await said(ws, "U0ALICE", "venture-acme", "wake acme cmo")
    [decision_id, *_] = await ws.wait_for(lambda: decision_ids_posted(ws.messages("venture-acme")), timeout=20)
    refused = await said(ws, "U0DAN", "general", f"outcome {decision_id} success")
    assert "may record outcomes for Acme Analytics" in refused
    assert "Recorded outcome" in await said(ws, "U0CAROL", "venture-acme", f"outcome {decision_id} success")


async def test_a_paused_agent_wakes_only_when_an_admin_forces_it(stack: DevStack, container: Container) -> None:
    ws = stack.workspace
    await said(ws, "U0BOB", "venture-acme", "pause acme cmo")
    assert "is paused" in await said(ws, "U0CAROL", "venture-acme", "wake acme cmo")
    assert "Only Lumen's admins may force a wake-up of Acme Analytics" in await said(ws, "U0BOB", "venture-acme", "wake acme cmo --force")
    assert [r for r in await all_rows(container.db, Run) if r.trigger.value == "manual"] == []
    assert "Waking the cmo agent" in await said(ws, "U0ALICE", "venture-acme", "wake acme cmo --force")
    [run] = [r for r in await all_rows(container.db, Run) if r.trigger.value == "manual"]
    assert run.context.get("forced_by") == "U0ALICE"
    assert await _statuses(container, "acme", "cmo") == {AgentStatus.PAUSED}  # forcing once does not resume it


async def _statuses(container: Container, slug: str, role: str | None = None) -> set[AgentStatus]:
    from lumen.db.models import Agent, Venture

    rows = await all_rows(container.db, Agent)
    ventures = {v.id: v.slug for v in await all_rows(container.db, Venture)}
    return {a.status for a in rows if ventures[a.venture_id] == slug and (role is None or a.role == role)}


async def test_manual_wakes_asked_while_one_waits_are_one_run(container: Container) -> None:
    async with container.db.transaction() as session:
        first = await agents.wake(session, "acme", "cmo", requested_by="U0BOB", request_id="t1", coalesce=True)
        again = [await agents.wake(session, "acme", "cmo", requested_by="U0BOB", request_id=f"t{n}", coalesce=True) for n in range(2, 50)]
    assert {w.run_id for w in again} == {first.run_id} and all(w.already_queued for w in again)
    assert len(await all_rows(container.db, Run)) == 1
