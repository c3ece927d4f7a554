"""Retrieval quality, measured on two generated histories, each question judged by the generator's facts.

What each answer should cite is computed from the generator's own facts (venture, topic, tags,
local date, status, latest verdict), never from the code under test. The answers come from
`answer_question` with the offline model, which cites every record it is given, so `answer.cited`
is exactly what retrieval found.

1. The first history (tests/ask/history.py), 16 questions. Measured (SQLite and Postgres alike):
   micro precision 1.0, micro recall 1.0 (92 cited, 92 relevant); before issue 11, 0.791 and 0.989.
2. The second history (tests/ask/quality/), 118 questions in people's words: 98 written before
   the topic vocabulary existed, 20 after it (and measured once before any change: precision
   0.51, recall 0.89). Now micro precision 0.994, recall 0.988 on both databases (1037 cited,
   1043 relevant on SQLite); no invented citation, no private leak. What is left is arguable:
   retargeting on Instagram filed as display rather than paid social, blog guides not counted as
   SEO, a cloud budget not counted among "big purchases".
The thresholds sit under the measured figures and at the issue's targets (recall 0.95,
precision 0.85), so a regression fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from lumen.ask.service import answer_question
from tests.ask.conftest import History
from tests.ask.history import Planned

PRECISION_MIN = 0.85
RECALL_MIN = 0.95
RECALL_FLOOR = 0.8

Q1_2026 = (date(2026, 1, 1), date(2026, 4, 1))
Q2_2026 = (date(2026, 4, 1), date(2026, 7, 1))
Q3_2026 = (date(2026, 7, 1), date(2026, 10, 1))
Q3_2025 = (date(2025, 7, 1), date(2025, 10, 1))
Y2025 = (date(2025, 1, 1), date(2026, 1, 1))
Y2026 = (date(2026, 1, 1), date(2027, 1, 1))
PUBLIC = ("acme", "brightbox")


@dataclass(frozen=True)
class Case:
    question: str
    relevant: Callable[[Planned], bool]
    user: str = "U0DAN"  # not a member of Zenith's channel
    channel: str | None = None


def within(span: tuple[date | None, date | None]) -> Callable[[Planned], bool]:
    return lambda p: p.in_local(*span)


CASES = [
    Case("What did Acme try last quarter?", lambda p: p.venture == "acme" and within(Q3_2026)(p)),
    Case("acmee pricing changes this year", lambda p: p.venture == "acme" and p.topic == "pricing" and within(Y2026)(p)),
    Case("What failed for Brightbox in Q2?",
         lambda p: p.venture == "brightbox" and p.verdict == "failure" and within(Q2_2026)(p)),
    Case("What worked in Acme's advertising last year?",
         lambda p: p.venture == "acme" and p.topic == "ads" and p.verdict == "success" and within(Y2025)(p)),
    Case("Hiring at Brightbox since March",
         lambda p: p.venture == "brightbox" and p.topic == "hiring" and within((date(2026, 3, 1), None))(p)),
    Case("security decisions for Zenith in the past two months",
         lambda p: p.venture == "zenith" and p.topic == "security" and within((date(2026, 9, 21), None))(p),
         user="U0CAROL"),
    Case("what happened this month?",
         lambda p: p.venture == "brightbox" and within((date(2026, 11, 1), date(2026, 12, 1)))(p),
         user="U0BOB", channel="C0BRIGHT"),
    Case("Q3 2025 hiring", lambda p: p.venture in PUBLIC and p.topic == "hiring" and within(Q3_2025)(p)),
    Case("What did Project Zenith try in Q1?", lambda p: p.venture == "zenith" and within(Q1_2026)(p), user="U0ALICE"),
    Case("bright box ads 2026-01-10 to 2026-04-30",
         lambda p: p.venture == "brightbox" and p.topic == "ads" and within((date(2026, 1, 10), date(2026, 5, 1)))(p)),
    Case("What failed in pricing last quarter?",
         lambda p: p.venture in PUBLIC and p.topic == "pricing" and p.verdict == "failure" and within(Q3_2026)(p)),
    Case("What did brightbx try in October?",
         lambda p: p.venture == "brightbox" and within((date(2026, 10, 1), date(2026, 11, 1)))(p)),
    Case("What tools did Acme adopt in 2025?", lambda p: p.venture == "acme" and p.topic == "partnership" and within(Y2025)(p)),
    Case("What mixed results did we have last year?",
         lambda p: p.venture == "zenith" and p.verdict == "mixed" and within(Y2025)(p), user="U0CAROL", channel="C0ZENITH"),
    Case("Acme Analytics marketing in the past 3 months",
         lambda p: p.venture == "acme" and p.topic in ("ads", "content") and within((date(2026, 8, 21), None))(p)),
    Case("customer commitments at zenith", lambda p: p.venture == "zenith" and p.topic == "customers", user="U0ALICE"),
]


async def test_precision_and_recall_over_the_question_set(history: History) -> None:
    rows = []
    true_positives = cited_total = relevant_total = 0
    for case in CASES:
        expected = history.ids_where(case.relevant)
        assert expected, f"the generator must give {case.question!r} something to find"
        assert len(expected) <= 25, f"{case.question!r}: more than one answer's worth of records"
        c = history.container
        answer = await answer_question(
            c.db.sessions, c.gateway, c.directory, case.question,
            tz=c.workspace_tz, user_id=case.user, channel_id=case.channel, now=history.now,
        )
        assert not answer.refused, (case.question, answer.text)
        cited = set(answer.cited)
        hits = len(cited & expected)
        true_positives += hits
        cited_total += len(cited)
        relevant_total += len(expected)
        precision = hits / len(cited) if cited else 0.0
        recall = hits / len(expected)
        rows.append(
            {
                "question": case.question, "precision": round(precision, 3), "recall": round(recall, 3),
                "cited": len(cited), "relevant": len(expected),
                "extra": sorted(history.plan_of(i).title for i in cited - expected),
                "missed": sorted(history.plan_of(i).title for i in expected - cited),
            }
        )
        if case.user == "U0DAN":
            assert not any(history.plan_of(i).venture == "zenith" for i in cited), case.question
    precision = true_positives / cited_total
    recall = true_positives / relevant_total
    report = {
        "backend": history.db.dialect, "micro_precision": round(precision, 3), "micro_recall": round(recall, 3),
        "macro_precision": round(sum(r["precision"] for r in rows) / len(rows), 3),
        "macro_recall": round(sum(r["recall"] for r in rows) / len(rows), 3),
        "questions": len(CASES), "cited": cited_total, "relevant": relevant_total,
    }
    print("\nask retrieval quality:", json.dumps(report))
    for row in rows:
        print("  ", json.dumps(row))
    weak = [r for r in rows if r["recall"] < RECALL_FLOOR]
    assert not weak, weak
    assert precision >= PRECISION_MIN, report
    assert recall >= RECALL_MIN, report


# --- the second history: 118 questions in people's words ------------------------------------------

QUALITY_PRECISION_MIN = 0.85
QUALITY_RECALL_MIN = 0.95


async def test_questions_worded_apart_from_the_vocabulary(quality_history_db: History) -> None:
    """tests/ask/quality: five ventures over two years, and questions written before Lumen's topic
    vocabulary, each judged by the generator's facts. Every answer lists all it found (`show_all`),
    so `cited` is exactly what retrieval returned."""
    from tests.ask.quality.questions import load_cases

    history = quality_history_db
    c = history.container
    known_ids = set(history.ids.values())
    private_titles = {p.title for p in history.plans if p.venture == "marlow"} - {
        p.title for p in history.plans if p.venture != "marlow"
    }
    rows = []
    true_positives = cited_total = relevant_total = 0
    invented = leaks = 0
    for case in load_cases():
        expected = history.ids_where(case.relevant())
        assert expected or case.none, f"the generator must give {case.question!r} something to find"
        answer = await answer_question(
            c.db.sessions, c.gateway, c.directory, case.question,
            tz=c.workspace_tz, user_id=case.user, channel_id=case.channel, now=history.now, show_all=True,
        )
        cited = set(answer.cited)
        invented += len(cited - known_ids)
        visible = set(case.visible())
        leaked = {i for i in cited & known_ids if history.plan_of(i).venture not in visible}
        if "marlow" not in visible:
            leaked |= {0} if ("Marlow" in answer.text or any(t in answer.text for t in private_titles)) else set()
        leaks += len(leaked)
        hits = len(cited & expected)
        true_positives += hits
        cited_total += len(cited)
        relevant_total += len(expected)
        rows.append({
            "question": case.question, "cited": len(cited), "relevant": len(expected), "hits": hits,
            "extra": sorted(history.plan_of(i).title for i in cited - expected if i in known_ids)[:6],
            "missed": sorted(history.plan_of(i).title for i in expected - cited)[:6],
            "understood": answer.blocks[-1]["elements"][0]["text"],
        })
    precision = true_positives / cited_total if cited_total else 0.0
    recall = true_positives / relevant_total
    report = {
        "backend": history.db.dialect, "questions": len(rows), "micro_precision": round(precision, 3),
        "micro_recall": round(recall, 3), "cited": cited_total, "relevant": relevant_total,
        "invented_citations": invented, "privacy_leaks": leaks,
    }
    print("\nask quality, second history:", json.dumps(report))
    for row in rows:
        if row["extra"] or row["missed"]:
            print("  ", json.dumps(row))
    assert len(rows) >= 80
    assert invented == 0 and leaks == 0, report
    assert precision >= QUALITY_PRECISION_MIN, report
    assert recall >= QUALITY_RECALL_MIN, report
