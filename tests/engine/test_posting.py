"""Decisions reach the venture's channel through the outbox: once each, whatever Slack does."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from lumen.db.base import utcnow
from lumen.db.models import BrainVersion, Decision, OutboxStatus, Run, RunStatus, Venture
from lumen.engine import outbox
from lumen.container import Container
from lumen.render.decisions import TRAIL_ACTION
from tests.engine.helpers import agent_of, all_rows, block_text, decision_ids_posted, eventually, outbox_rows

FINISHED = (RunStatus.SUCCEEDED, RunStatus.AWAITING_APPROVAL, RunStatus.FAILED)


async def _finished_runs(container: Container, n: int) -> list[Run]:
    async def check() -> list[Run] | None:
        done = await all_rows(container.db, Run, Run.status.in_(FINISHED))
        return done if len(done) >= n else None

    return await eventually(check, timeout=15)


async def _add_brain(container: Container, slug: str, version: int) -> None:
    async with container.db.transaction() as session:
        venture = await session.scalar(select(Venture).where(Venture.slug == slug))
        session.add(BrainVersion(venture_id=venture.id, version=version, summary="What we learned so far."))


async def test_wake_ups_post_each_decision_with_its_story_and_the_trail_in_a_thread(
    container: Container, open_stack
) -> None:
    await _add_brain(container, "acme", 2)
    async with open_stack() as stack:
        ws = stack.workspace
        for role in ("cmo", "cmo", "ceo"):
            before = len(decision_ids_posted(ws.messages("venture-acme")))
            await ws.slash_command("U0ALICE", "venture-acme", "/lumen", f"wake acme {role}")
            await ws.wait_for(lambda: len(decision_ids_posted(ws.messages("venture-acme"))) > before, timeout=15)

        decisions = await eventually(lambda: _all_posted(container), timeout=5)
        assert [(d.title, d.status.value) for d in decisions] == [
            ("Run a LinkedIn ads test for the analytics add-on", "executed"),  # $300, under the $500 gate
            ("Publish a churn benchmark report", "executed"),
            ("Launch annual plan with two months free", "awaiting_approval"),  # gated: asks a human
        ]
        assert decision_ids_posted(ws.messages("venture-acme")) == [d.id for d in decisions]
        messages = {m.ts: m for m in ws.messages("venture-acme")}
        gated = messages[decisions[2].slack_ts]
        assert decisions[2].title in block_text(gated.blocks)

        cards = [messages[d.slack_ts] for d in decisions[:2]]
        for decision, card in zip(decisions[:2], cards, strict=True):
            shown = block_text(card.blocks)
            assert card.blocks[0]["type"] == "header" and block_text(card.blocks[0]) == decision.title
            for part in (
                decision.title,
                f"`{decision.category}`",
                decision.rationale,
                decision.expected_effect,
                "cmo agent",
                "brain v2",
                "cost $0.00",
                f"run #{decision.run_id}",
                f"decision #{decision.id}",
                "lumen-offline/playbook",
                "Show trail in thread",
            ):
                assert part in shown, (part, shown)
            assert card.text == f"cmo decided: {decision.title} ({decision.category})"
            assert decision.brain_version == 2
            assert decision.slack_channel_id == card.channel
            assert decision.permalink and card.ts.replace(".", "") in decision.permalink
        assert "$300.00" in block_text(cards[0].blocks) and "✅ Executed" in block_text(cards[0].blocks)

        # "Show trail in thread" answers in the card's thread.
        card = cards[0]
        await ws.click("U0BOB", "venture-acme", card.ts, TRAIL_ACTION)
        [reply] = await ws.wait_for(lambda: [m for m in ws.thread(card.channel, card.ts) if m.is_reply], timeout=10)
        trail = block_text(reply.blocks)
        assert reply.text == f"Trail of run #{decisions[0].run_id}"
        for step in ("context", "propose_decisions", "decision:0", "finished", "brain v2", "lumen-offline/playbook"):
            assert step in trail, (step, trail)
        assert f"lumen runs show {decisions[0].run_id}" in trail
        # The trail reads as words to its end: the last step is no JSON blob.
        assert "succeeded · 1 decision · " in trail and "{" not in trail and '"status"' not in trail

        # Every click is answered, only for the clicker, with a link that opens the thread ...
        link = f"{decisions[0].permalink}?thread_ts={card.ts}&cid={card.channel}"
        pointer = f"🧾 The trail of run #{decisions[0].run_id} is in this decision's thread: <{link}|open the thread>."
        assert [n.text for n in await ws.wait_for(lambda: ws.ephemeral_messages(card.channel, "U0BOB"), 5)] == [pointer]
        # ... and the trail is posted once per decision: later clicks, by anyone, point to it.
        await ws.click("U0CAROL", "venture-acme", card.ts, TRAIL_ACTION)
        await ws.click("U0BOB", "venture-acme", card.ts, TRAIL_ACTION)
        await ws.wait_for(lambda: ws.ephemeral_messages(card.channel, "U0CAROL") and len(ws.ephemeral_messages(card.channel, "U0BOB")) == 2, 5)
        assert [n.text for n in ws.ephemeral_messages(card.channel, "U0CAROL")] == [pointer]
        await asyncio.sleep(0.5)
        assert len([m for m in ws.thread(card.channel, card.ts) if m.is_reply]) == 1


async def _all_posted(container: Container) -> list[Decision] | None:
    decisions = await all_rows(container.db, Decision)
    return decisions if all(d.slack_ts for d in decisions) else None


# What the dispatcher tries while Slack is down: posts, and looks for posts that may have landed.
PROBES = ("chat.postMessage", "conversations.history", "conversations.replies")


def _top_level_bot_posts(ws, channel: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in ws.messages(channel) if not m.is_reply and m.bot_id]


async def test_while_slack_is_down_nothing_is_lost_and_nothing_is_posted_twice(
    container: Container, open_stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "MAX_BACKOFF", timedelta(seconds=0.5))
    async with open_stack() as stack:
        ws = stack.workspace
        # One command while Slack is up: Bolt checks its token once (auth.test) and remembers.
        await ws.slash_command("U0ALICE", "venture-acme", "/lumen", "help")
        ws.outage(True)
        for venture, role in (("acme", "ceo"), ("acme", "cmo")):
            await ws.slash_command("U0ALICE", f"venture-{venture}", "/lumen", f"wake {venture} {role}")
        # And a scheduled wake-up, as the replica's scheduler fires it.
        brightbox = await agent_of(container.db, "brightbox", "ceo")
        await stack.replica.scheduler.fire_job(f"wake:{brightbox.id}", utcnow().replace(microsecond=0))
        await _finished_runs(container, 3)
        decisions = await all_rows(container.db, Decision)
        assert len(decisions) == 3
        # Slack stays down a while; the dispatcher keeps probing it, one row at a time (a post, or the
        # look for one that may have landed), and keeps the rows.
        probes = lambda: [c for c in ws.calls if c.status == 503 and c.method in PROBES]  # noqa: E731
        await ws.wait_for(lambda: len(probes()) >= 3, timeout=15)
        assert decision_ids_posted(ws.messages("venture-acme") + ws.messages("venture-brightbox")) == []

        ws.outage(False)
        want = sorted(d.id for d in decisions)
        posted = lambda: decision_ids_posted(ws.messages("venture-acme") + ws.messages("venture-brightbox"))  # noqa: E731
        await ws.wait_for(lambda: sorted(set(posted())) == want, timeout=10)
        await asyncio.sleep(1.0)  # a duplicate, if any, would have arrived by now

        assert Counter(posted()) == Counter({d.id: 1 for d in decisions})
        async with container.db.sessions() as session:
            slugs = dict((await session.execute(select(Venture.id, Venture.slug))).all())
        for slug in ("acme", "brightbox"):
            here = sorted(decision_ids_posted(ws.messages(f"venture-{slug}")))
            assert here == sorted(d.id for d in decisions if slugs[d.venture_id] == slug)
            # Counted by message too, whatever its blocks: one bot post per decision, at its ts.
            posts = _top_level_bot_posts(ws, f"venture-{slug}")
            mine = await all_rows(container.db, Decision)
            assert sorted(m.ts for m in posts) == sorted(d.slack_ts for d in mine if slugs[d.venture_id] == slug)
        rows = [r for r in await outbox_rows(container.db) if r.ref.get("decision_id")]
        assert len(rows) == 3
        assert {r.status for r in rows} == {OutboxStatus.SENT}
        # Each try was counted on its row (a failed look for a post too), and each row went out once.
        posts_tried = [c for c in ws.calls_to("chat.postMessage") if c.params.get("text") in {r.payload["text"] for r in rows}]
        looks_failed = [c for c in probes() if c.method != "chat.postMessage"]
        assert sum(r.attempts for r in rows) == len(posts_tried) + len(looks_failed)
        assert len([c for c in posts_tried if c.status == 200]) == 3
        for decision in await all_rows(container.db, Decision):
            assert decision.slack_ts is not None


async def test_a_rate_limited_post_waits_for_retry_after_and_is_not_counted_as_failing(
    container: Container, open_stack
) -> None:
    async with open_stack() as stack:
        ws = stack.workspace
        ws.rate_limit("chat.postMessage", times=2, retry_after=1)
        await ws.slash_command("U0ALICE", "venture-brightbox", "/lumen", "wake brightbox ceo")
        await ws.wait_for(lambda: decision_ids_posted(ws.messages("venture-brightbox")), timeout=15)

        attempts = ws.calls_to("chat.postMessage")
        assert [c.status for c in attempts] == [429, 429, 200]
        gaps = [later.time - earlier.time for earlier, later in zip(attempts, attempts[1:])]
        assert all(gap >= 1.0 for gap in gaps), gaps
        [row] = await eventually(
            lambda: _if(outbox_rows(container.db), lambda rows: rows[0].status == OutboxStatus.SENT), timeout=5
        )
        assert (row.attempts, row.last_error) == (1, None)  # two 429s, no failed attempt counted


async def _if(rows_coro, predicate):  # type: ignore[no-untyped-def]
    rows = await rows_coro
    return rows if predicate(rows) else None
