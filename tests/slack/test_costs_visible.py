"""Costs people can see, through the dev workspace: App Home's costs section and chart (a
private venture's only to its channel's members), and `/lumen costs`' chart, uploaded as a
real PNG by the outbox the way the brain's charts are."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from devslack import Workspace
from lumen.container import Container
from lumen.db.base import utcnow
from lumen.db.models import Agent, OutboxMessage, Spend, Venture
from lumen.devmode import DevStack, dev_stack
from lumen.domain.config import AgentConfig, LumenConfig, PlaybookAction, VentureConfig
from tests.slack.support import answer_to, block_texts, checked_blocks, response_url_payloads


@pytest.fixture
def example_config(example_config: LumenConfig) -> LumenConfig:
    zenith = VentureConfig(
        slug="zenith", name="Zenith Labs", channel="venture-zenith", private=True,
        agents=(AgentConfig(role="ceo", schedule="0 9 * * 1", budget_usd_month=Decimal(4)),),
        playbook=(PlaybookAction(title="Interview ten design leads about handoffs", category="research"),),
    )
    return example_config.model_copy(update={"ventures": (*example_config.ventures, zenith)})


@pytest.fixture
async def stack(container: Container) -> AsyncIterator[DevStack]:
    """Only Alice and Carol are in #venture-zenith."""
    ws = Workspace.demo(retry_delays=(0.05, 0.05, 0.05))
    async with dev_stack(container.settings, container.config, workspace=ws) as running:
        zenith = ws.channel_by_name("venture-zenith")
        for user in ("U0BOB", "U0DAN"):
            zenith.members.discard(user) if isinstance(zenith.members, set) else zenith.members.remove(user)
        yield running


async def _spend(stack: DevStack) -> None:
    """Acme's ceo: $3 a day for eight days against a $40 month (heading over); Zenith's ceo $3.50 today of $4."""
    now = utcnow()
    async with stack.container.db.transaction() as session:
        agents = {(slug, a.role): a for a, slug in (await session.execute(select(Agent, Venture.slug).join(Venture))).all()}
        ceo, zen = agents[("acme", "ceo")], agents[("zenith", "ceo")]
        ceo.budget_usd_month = Decimal(40)
        for days_ago in range(8):
            session.add(Spend(agent_id=ceo.id, venture_id=ceo.venture_id, purpose="decide", model="openai/gpt-4o", cost_usd=Decimal(3), created_at=now - timedelta(days=days_ago)))
        session.add(Spend(agent_id=zen.id, venture_id=zen.venture_id, purpose="decide", model="openai/gpt-4o", cost_usd=Decimal("3.5"), created_at=now))


def _acme_this_month() -> int:
    now = utcnow()
    return sum(3 for days_ago in range(8) if (now - timedelta(days=days_ago)).month == now.month)


def _png(ws: Workspace, image: dict[str, Any]) -> Image.Image:
    stored = ws.files.image(image["slack_file"]["id"])
    assert stored is not None and stored.content, f"no uploaded image behind {image}"
    picture = Image.open(io.BytesIO(stored.content))
    assert picture.format == "PNG" and picture.size == (640, 300)
    assert len(picture.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 20
    return picture


async def _home(ws: Workspace, user: str) -> dict[str, Any]:
    await ws.open_home(user)
    view = await ws.wait_for(lambda: ws.home_views.get(user), timeout=15)
    return view.definition


async def test_app_home_shows_each_visible_ventures_costs_and_chart_and_hides_a_private_one(stack: DevStack) -> None:
    await _spend(stack)
    ws = stack.workspace
    dan = await _home(ws, "U0DAN")
    shown = block_texts(dan["blocks"])
    # Acme has no budget of its own: its agents' ($40 and $10) stand for it.
    assert "Costs · " in shown and f"*acme* · ${_acme_this_month()}.00 of $50.00 (its agents' budgets)" in shown and "→ $" in shown
    assert "⚠️ *acme/ceo* is heading over its $40.00" in shown
    assert "*brightbox* · $0.00" in shown
    assert "zenith" not in str(dan).lower()  # neither its line, nor its warning, nor its chart
    [chart] = [b for b in dan["blocks"] if b["type"] == "image" and "spend against budget" in b["title"]["text"]]
    assert chart["alt_text"].startswith("acme: $") and "against a budget of $50.00" in chart["alt_text"]
    _png(ws, chart)

    carol = await _home(ws, "U0CAROL")
    shown = block_texts(carol["blocks"])
    assert "*zenith* · $3.50 of $4.00 (its agents' budgets)" in shown and "⚠️ *zenith/ceo* has spent 88% of its $4.00." in shown
    charts = {b["alt_text"].split(":")[0]: b for b in carol["blocks"] if b["type"] == "image" and "spend against budget" in b["title"]["text"]}
    assert set(charts) == {"acme", "zenith"}
    # Within the hour, one chart per venture: Carol is shown the file Dan was.
    assert charts["acme"]["slack_file"] == chart["slack_file"]
    _png(ws, charts["zenith"])
    async with stack.container.db.sessions() as session:
        uploads = (await session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.method == "files.upload"))).all()
    assert len(uploads) == 2


async def test_lumen_costs_shows_the_chart_after_the_report_then_in_it(stack: DevStack) -> None:
    await _spend(stack)
    ws = stack.workspace
    delivery, _, payload = await answer_to(ws, "U0ALICE", "venture-acme", "costs acme")
    assert "Costs · acme ·" in block_texts(checked_blocks(payload))
    # The chart is drawn and uploaded, then follows on the same response_url.
    replies = await ws.wait_for(lambda: (r := response_url_payloads(ws, delivery)) and len(r) >= 2 and r, timeout=15)
    follow = replies[-1]
    [image] = [b for b in checked_blocks(follow) if b["type"] == "image"]
    assert image["alt_text"].startswith("acme: $") and "expected by month end" in image["alt_text"]
    _png(ws, image)
    # Asked again within the hour: the same file, in the report itself.
    _, _, again = await answer_to(ws, "U0BOB", "venture-acme", "costs acme")
    blocks = checked_blocks(again)
    assert [b["slack_file"] for b in blocks if b["type"] == "image"] == [image["slack_file"]]


async def test_lumen_costs_for_everything_charts_only_what_the_reader_may_see(stack: DevStack) -> None:
    await _spend(stack)
    ws = stack.workspace
    delivery, _, _ = await answer_to(ws, "U0DAN", "venture-acme", "costs")
    replies = await ws.wait_for(lambda: (r := response_url_payloads(ws, delivery)) and len(r) >= 2 and r, timeout=15)
    [image] = [b for b in checked_blocks(replies[-1]) if b["type"] == "image"]
    # Acme's, none of zenith's $3.50.
    assert image["alt_text"].startswith(f"all ventures: ${_acme_this_month()}.00 spent")
    _png(ws, image)
