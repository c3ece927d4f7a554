"""Platform insights: pricing changes worked at Acme and at Brightbox, so the platform synthesis
says so, citing real decisions; the insight is versioned, posted to #lumen-platform, read by the
next wake-up, and the offline model follows it on a pricing move, which says so in its post."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from lumen.db.models import Decision, DecisionStatus, PlatformInsight, Run, Step
from lumen.devmode import DevStack
from lumen.domain.brain import iso_week
from lumen.render.approvals import APPROVE_ACTION
from tests.approvals.support import approve
from tests.brain.conftest import START, action_ids, texts, venture_id, wait_for_message, wait_for_run
from tests.brain.history import category_of, kind_of, week_end, write_history
from tests.slack.support import answer_to, checked_blocks

BRIGHTBOX = "venture-brightbox"


def pricing_works(n: int) -> str:
    return "success" if category_of(n) == "pricing_change" else kind_of(n)


def row(insight: PlatformInsight) -> dict[str, Any]:
    return {c.name: getattr(insight, c.name) for c in PlatformInsight.__table__.columns}


async def test_insight_across_ventures_reaches_the_next_decision(stack: DevStack) -> None:
    container, ws, scheduler = stack.container, stack.workspace, stack.replica.scheduler
    db = container.db
    ids = {slug: await venture_id(db, slug) for slug in ("acme", "brightbox")}
    # Pricing changes worked everywhere; the other categories are the usual mix.
    histories = {slug: await write_history(db, slug, 2, 50, START, kinds=pricing_works) for slug in ids}

    async def week(n: int) -> PlatformInsight:
        for slug, vid in ids.items():
            await wait_for_run(db, await scheduler.fire_job(f"synthesis:{vid}", week_end(START, n)))
        await wait_for_run(db, await scheduler.fire_job("platform", week_end(START, n) + timedelta(minutes=30)))
        async with db.sessions() as session:
            return await session.scalar(select(PlatformInsight).order_by(PlatformInsight.version.desc()).limit(1))

    first = await week(1)
    v1 = row(first)
    assert (first.version, first.period) == (1, iso_week(week_end(START, 1)))
    # One insight for the pattern, with its net record across both ventures: never a "worked"
    # beside a "failed" about the same thing.
    about_pricing = [i for i in first.insights if i["key"] == "category:pricing_change"]
    assert len(about_pricing) == 1
    pricing = about_pricing[0]
    assert pricing["ventures"] == ["Acme Analytics", "Brightbox Studio"] and pricing["venture_count"] == 2
    ev = pricing["evidence"]
    assert ev["tries"] >= 4 and ev["worked"] == ev["tries"]
    assert pricing["text"].startswith(f"pricing_change moves: {ev['worked']} of {ev['tries']} recent tries worked across 2 ventures")
    assert first.covers == iso_week(week_end(START, 1))
    assert pricing["text"].endswith("worth trying where it fits.")
    # Its citations are real pricing decisions that worked, from both ventures.
    judged = {
        d.id: slug for slug, h in histories.items() for d in h.week(1)
        if d.category == "pricing_change" and d.verdict == "success"
    }
    assert pricing["decision_ids"] and set(pricing["decision_ids"]) <= set(judged)
    assert {judged[i] for i in pricing["decision_ids"]} == {"acme", "brightbox"}
    assert set(first.built_from) == {i for item in first.insights for i in item["decision_ids"]}

    # Posted to the platform channel through the outbox.
    post = await wait_for_message(ws, "lumen-platform", lambda m: "Platform insights v1" in texts(m))
    checked_blocks({"blocks": post.blocks})
    assert pricing["text"] in texts(post) and f"#{pricing['decision_ids'][0]}" in texts(post)

    # A week later: version 2 is a new row; version 1 is untouched.
    second = await week(2)
    assert second.version == 2 and second.id != first.id
    async with db.sessions() as session:
        assert row(await session.get(PlatformInsight, first.id)) == v1
    await wait_for_message(ws, "lumen-platform", lambda m: "Platform insights v2" in texts(m))
    insight = next(i for i in second.insights if i["key"] == "category:pricing_change")

    # The next wake-up reads insight v2, and the offline model's pricing move follows it.
    await answer_to(ws, "U0ALICE", BRIGHTBOX, "wake brightbox ceo")
    approval = await wait_for_message(ws, BRIGHTBOX, lambda m: APPROVE_ACTION in action_ids(m))
    async with db.sessions() as session:
        decision = await session.scalar(select(Decision).where(Decision.status == DecisionStatus.AWAITING_APPROVAL))
    assert decision is not None and decision.category == "pricing_change"
    assert decision.follows_insight == insight["text"] and decision.insight_version == 2
    assert decision.status == DecisionStatus.AWAITING_APPROVAL
    async with db.sessions() as session:
        run = await session.get(Run, decision.run_id)
        step = await session.scalar(select(Step).where(Step.run_id == decision.run_id, Step.name == "propose_decisions"))
    assert run is not None and run.insight_version == 2
    prompt = "\n".join(m["content"] for m in step.input["messages"])
    assert f"Platform insights (version 2, {second.covers}):" in prompt and f"- {insight['text']}" in prompt
    assert f"Across ventures: {insight['text']}" in decision.rationale

    # Alice approves the pricing change; the executed decision's post names the insight it follows.
    await approve(ws, "U0ALICE", BRIGHTBOX, approval.ts)
    executed = await wait_for_message(
        ws, BRIGHTBOX, lambda m: "Follows platform insight" in texts(m) and "Record outcome" in texts(m)
    )
    assert f"💡 Follows platform insight: {insight['text']}" in texts(executed)
    assert f"decision #{decision.id}" in texts(executed)

