"""`search` and `nearest` directly, on both databases: filters, order, limit, what a record carries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lumen.ask.repository import DEFAULT_LIMIT, nearest, search
from lumen.ask.understand import KnownVenture, understand
from lumen.db.models import Venture
from tests.ask.conftest import History
from tests.ask.history import WORKSPACE_TZ


async def _ask(history: History, text: str, **kwargs):  # type: ignore[no-untyped-def]
    async with history.db.sessions() as session:
        ventures = list((await session.scalars(select(Venture))).all())
        known = [KnownVenture(v.slug, v.name, tuple(v.aliases), v.channel, v.channel_id, v.private) for v in ventures]
        question = understand(text, known, now=history.now, tz=WORKSPACE_TZ)
        ids = [v.id for v in ventures if not question.ventures or v.slug in {q.slug for q in question.ventures}]
        return question, await search(session, question, ids, **kwargs), await nearest(session, question, ids)


async def test_short_search_words_match_whole_words_only(history: History) -> None:
    # "ads" searches "ad" too; as a prefix that matched "admin", "adopt(ers)" and "add".
    _, records, _ = await _ask(history, "acme ads since 2026-01-01")
    topics = {history.plan_of(r.decision_id).topic for r in records}
    assert topics <= {"ads", "content"}, sorted((r.title, history.plan_of(r.decision_id).topic) for r in records)
    assert not any(word in r.title.lower() for r in records for word in ("admin", "adopt", "audit"))
    expected = history.ids_where(lambda p: p.venture == "acme" and p.topic == "ads" and p.in_local(date(2026, 1, 1), None))
    assert expected <= {r.decision_id for r in records}


async def test_longer_words_still_match_as_prefixes_and_stems(history: History) -> None:
    # "hiring" finds "Hire a part-time …", "recruit" finds "Recruit a contract …".
    _, records, _ = await _ask(history, "brightbox hiring")
    titles = {r.title.split()[0] for r in records}
    assert {"Hire", "Recruit"} <= titles, titles


async def test_newest_first_and_at_most_one_answers_worth(history: History) -> None:
    _, records, _ = await _ask(history, "acme")
    assert len(records) == DEFAULT_LIMIT
    assert [r.created_at for r in records] == sorted((r.created_at for r in records), reverse=True)
    newest = sorted((p for p in history.plans if p.venture == "acme"), key=lambda p: p.at, reverse=True)[:DEFAULT_LIMIT]
    assert [r.decision_id for r in records] == [history.id_of(p) for p in newest]


async def test_a_record_carries_status_outcome_reason_and_permalink(history: History) -> None:
    _, records, _ = await _ask(history, "what did brightbox try last year", limit=200)
    assert records
    for record in records:
        plan = history.plan_of(record.decision_id)
        assert record.venture_slug == "brightbox" and record.venture_name == "Brightbox Studio"
        assert (record.title, record.category, record.status) == (plan.title, plan.category, plan.status)
        assert record.created_at == plan.at
        assert record.permalink == plan.permalink
        assert record.verdict == plan.verdict  # the latest outcome's
        assert record.reason == plan.reason
    assert any(r.status == "rejected" and r.reason for r in records)


async def test_nearest_looks_outside_the_range_on_both_sides(history: History) -> None:
    question, records, near = await _ask(history, "what did brightbox try in august")
    assert question.time is not None and question.time.label == "August 2026"
    assert records == []
    brightbox = [p for p in history.plans if p.venture == "brightbox"]
    before = max((p for p in brightbox if p.local_date < date(2026, 8, 1)), key=lambda p: p.at)
    after = min((p for p in brightbox if p.local_date >= date(2026, 9, 1)), key=lambda p: p.at)
    assert [r.decision_id for r in near] == [history.id_of(before), history.id_of(after)]
