"""`search`, `records` and `nearest` directly, on both databases: filters, ranking, narrowing, order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lumen.ask.repository import CAP, Retrieved, nearest, records, search
from lumen.ask.understand import KnownVenture, understand
from lumen.db.models import Venture
from lumen.domain.ask_query import AskQuery
from tests.ask.conftest import History
from tests.ask.history import WORKSPACE_TZ


async def _ask(history: History, text: str) -> tuple[AskQuery, Retrieved, list, list]:  # type: ignore[type-arg]
    async with history.db.sessions() as session:
        ventures = list((await session.scalars(select(Venture))).all())
        known = [KnownVenture(v.slug, v.name, tuple(v.aliases), v.channel, v.channel_id, v.private) for v in ventures]
        query = understand(text, known, now=history.now, tz=WORKSPACE_TZ)
        ids = [v.id for v in ventures if not query.ventures or v.slug in query.ventures]
        found = await search(session, query, ids)
        return query, found, await records(session, found.ids), await nearest(session, query, ids)


async def test_topic_words_match_whole_words_only(history: History) -> None:
    # "ads" as a stem matched "admin", "adopt(ers)" and "add"; whole words do not.
    _, _, found, _ = await _ask(history, "acme ads since 2026-01-01")
    topics = {history.plan_of(r.decision_id).topic for r in found}
    assert topics == {"ads"}, sorted((r.title, history.plan_of(r.decision_id).topic) for r in found)
    assert not any(word in r.title.lower() for r in found for word in ("admin", "adopt", "audit"))
    expected = history.ids_where(lambda p: p.venture == "acme" and p.topic == "ads" and p.in_local(date(2026, 1, 1), None))
    assert expected == {r.decision_id for r in found}


async def test_words_match_in_their_inflections(history: History) -> None:
    # "hiring" finds "Hire a part-time …" and "Recruit a contract …" (hiring's vocabulary).
    _, _, found, _ = await _ask(history, "brightbox hiring")
    assert {"Hire", "Recruit"} <= {r.title.split()[0] for r in found}
    assert {history.plan_of(r.decision_id).topic for r in found} == {"hiring"}


async def test_every_match_newest_first(history: History) -> None:
    _, retrieved, found, _ = await _ask(history, "acme")
    acme = sorted((p for p in history.plans if p.venture == "acme"), key=lambda p: p.at, reverse=True)
    assert len(acme) > 25, "more than one page"
    assert retrieved.ids == [history.id_of(p) for p in acme][: CAP + 1]
    assert [r.created_at for r in found] == sorted((r.created_at for r in found), reverse=True)


async def test_free_words_rank_but_never_hide_what_the_question_asks_for(history: History) -> None:
    plain = await _ask(history, "what failed at acme last year?")
    for noisy in ("which acme experiments failed last year?", "what acme zebra initiatives failed last year?"):
        query, retrieved, _, _ = await _ask(history, noisy)
        assert set(retrieved.ids) == set(plain[1].ids), (noisy, query)
    # A word that some of them mention puts those first, and keeps the rest.
    query, retrieved, found, _ = await _ask(history, "acme pricing in 2026 by seat")
    assert query.terms == ("seat",)
    everything = (await _ask(history, "acme pricing in 2026"))[1]
    assert set(retrieved.ids) == set(everything.ids)
    mentions = ["seat" in r.title.lower() for r in found]
    assert any(mentions) and mentions == sorted(mentions, reverse=True), "those that mention it come first"


async def test_named_things_narrow_to_what_mentions_them(history: History) -> None:
    query, retrieved, found, _ = await _ask(history, "did SOC 2 work out?")
    assert query.kind == "yes_no" and query.specifics == ("soc 2",)
    expected = history.ids_where(lambda p: "SOC 2" in p.title and p.venture != "zenith" or "SOC 2" in p.title)
    assert set(retrieved.ids) == expected
    assert {r.verdict for r in found} - {"success"}, "whatever happened to it, not only what worked"


async def test_a_named_thing_nothing_mentions_is_said_so(history: History) -> None:
    _, retrieved, _, _ = await _ask(history, "what did acme do about GDPR?")
    assert retrieved.ids == [] and retrieved.unmatched == ("gdpr",)


async def test_what_a_human_rejected(history: History) -> None:
    _, retrieved, found, _ = await _ask(history, "what got rejected at brightbox last year?")
    expected = history.ids_where(lambda p: p.venture == "brightbox" and p.status == "rejected" and p.in_local(date(2025, 1, 1), date(2026, 1, 1)))
    assert expected and set(retrieved.ids) == expected
    assert all(r.reason for r in found)


async def test_excluded_topics_stay_out(history: History) -> None:
    query, retrieved, _, _ = await _ask(history, "what did acme try in Q1 other than pricing?")
    assert query.exclude_topics == ("pricing",)
    expected = history.ids_where(lambda p: p.venture == "acme" and p.topic != "pricing" and p.in_local(date(2026, 1, 1), date(2026, 4, 1)))
    assert set(retrieved.ids) == expected


async def test_a_record_carries_status_outcome_correction_reason_and_permalink(history: History) -> None:
    _, _, found, _ = await _ask(history, "what did brightbox try last year")
    assert found
    for record in found:
        plan = history.plan_of(record.decision_id)
        assert record.venture_slug == "brightbox" and record.venture_name == "Brightbox Studio"
        assert (record.title, record.category, record.status) == (plan.title, plan.category, plan.status)
        assert record.created_at == plan.at
        assert record.permalink == plan.permalink
        assert record.verdict == plan.verdict  # the latest outcome's
        assert record.corrected_from == (plan.verdicts[0] if len(plan.verdicts) == 2 else None)
        assert record.reason == plan.reason
    assert any(r.status == "rejected" and r.reason for r in found)
    assert any(r.corrected_from for r in found)


async def test_nearest_looks_outside_the_range_on_both_sides(history: History) -> None:
    query, retrieved, _, near = await _ask(history, "what did brightbox try in august")
    assert query.period is not None and query.period.label == "August 2026"
    assert retrieved.ids == []
    brightbox = [p for p in history.plans if p.venture == "brightbox"]
    before = max((p for p in brightbox if p.local_date < date(2026, 8, 1)), key=lambda p: p.at)
    after = min((p for p in brightbox if p.local_date >= date(2026, 9, 1)), key=lambda p: p.at)
    assert [r.decision_id for r in near] == [history.id_of(before), history.id_of(after)]
