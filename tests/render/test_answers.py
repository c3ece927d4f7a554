"""Answers to questions: the model's text made inert, its citations made links, then the sources."""

from __future__ import annotations

from dataclasses import replace

from lumen.render.answers import Source, answer_blocks, link, linkify
from lumen.render.limits import MAX_SECTION_TEXT
from tests.render.support import HOSTILE, assert_escaped, texts, valid_blocks

PODCAST = Source(
    decision_id=12,
    title="Sponsor a podcast",
    venture="Acme Analytics",
    created="2026-01-14",
    permalink="https://acme.slack.com/archives/C0ACME/p1",
    status="executed",
    verdict="success",
)
DESIGNER = Source(13, "Hire a part-time designer", "Acme Analytics", "2026-01-20", None, "awaiting_approval", None)
TOOL = Source(14, "Buy a data enrichment tool", "Acme Analytics", "2026-02-01", None, "rejected", None)


def test_linkify_escapes_the_model_and_links_only_given_sources() -> None:
    """The model may cite what it was given; it may not ping, link, or cite anything else."""
    answer = f"Podcasts worked [#12], the designer is pending [#13], and [#99] is invented. {HOSTILE}"
    out = linkify(answer, {12: PODCAST, 13: DESIGNER})
    assert "worked <https://acme.slack.com/archives/C0ACME/p1|#12>," in out
    assert "pending #13," in out  # no permalink yet: plain number
    assert "[#99]" not in out and "#99" not in out
    assert_escaped(out)


def test_link_escapes_and_shortens_the_title() -> None:
    hostile = replace(PODCAST, title=HOSTILE + " " + "x" * 200)
    label = link(hostile)
    assert label.startswith(f"<{PODCAST.permalink}|#12 &lt;!channel&gt;")
    assert label.endswith("…>") and "<!channel>" not in label
    assert link(DESIGNER) == "#13 Hire a part-time designer"


def test_answer_lists_each_source_with_its_outcome_then_the_footer() -> None:
    blocks = valid_blocks(answer_blocks("Podcasts worked [#12].", [PODCAST, DESIGNER, TOOL], "Answered from Acme's records"))
    assert blocks[0]["text"]["text"] == "Podcasts worked [#12]."
    sources = blocks[1]["elements"][0]["text"].splitlines()
    assert sources[0] == "*Sources*"
    assert sources[1] == f"• <{PODCAST.permalink}|#12 Sponsor a podcast> · Acme Analytics · 2026-01-14 · ✅ success"
    assert sources[2] == "• #13 Hire a part-time designer · Acme Analytics · 2026-01-20 · ⏳ waiting for approval"
    assert sources[3] == "• #14 Buy a data enrichment tool · Acme Analytics · 2026-02-01 · 🚫 rejected"
    assert blocks[-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "Answered from Acme's records"}]}


def test_answer_escapes_source_titles_and_ventures() -> None:
    hostile = replace(DESIGNER, title=HOSTILE, venture=HOSTILE)
    assert_escaped(texts(answer_blocks("See below.", [hostile], "footer")))


def test_a_long_answer_is_split_between_lines_so_no_link_is_cut() -> None:
    line = f"A long line about the podcast <{PODCAST.permalink}|#12> and what followed it. " * 3
    body = "\n".join([line] * 200)  # ~50k characters
    blocks = valid_blocks(answer_blocks(body, [PODCAST], "footer"))
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 5  # at most five sections of answer
    for s in sections:
        assert len(s["text"]["text"]) <= MAX_SECTION_TEXT
        assert s["text"]["text"].count("<") == s["text"]["text"].count(">")  # every link whole


def test_a_long_answer_without_line_breaks_is_cut_at_the_limit() -> None:
    blocks = valid_blocks(answer_blocks("x" * 7_000, [], "footer"))
    assert [len(b["text"]["text"]) for b in blocks if b["type"] == "section"] == [3000, 3000, 1000]


def test_thirty_sources_with_long_titles_all_shown_within_limits() -> None:
    sources = [replace(PODCAST, decision_id=i, title="A very long decision title " * 20) for i in range(1, 31)]
    shown = texts(valid_blocks(answer_blocks("Summary.", sources, "footer")))
    for i in range(1, 31):
        assert f"|#{i} A very long" in shown


def test_expired_and_corrected_outcomes_are_said_in_the_sources() -> None:
    expired = replace(DESIGNER, status="expired")
    corrected = replace(PODCAST, verdict="failure", corrected_from="success")
    lines = texts(valid_blocks(answer_blocks("See below.", [expired, corrected], "footer")))
    assert "⌛ expired before anyone decided" in lines
    assert "❌ failure (first reported success)" in lines


def test_a_long_answer_says_how_many_more_and_carries_the_show_all_button() -> None:
    blocks = valid_blocks(answer_blocks("First page.", [PODCAST], "footer", more="24 more decisions answer this.",
                                        show_all=('{"q": {}}', 24)))
    [more] = [b for b in blocks if b.get("accessory")]
    assert more["text"]["text"] == "24 more decisions answer this."
    assert more["accessory"]["text"]["text"] == "Show all 24" and more["accessory"]["value"] == '{"q": {}}'
    assert blocks[-1]["elements"][0]["text"] == "footer"


def test_the_rest_of_an_answer_fills_as_many_messages_as_it_takes() -> None:
    from lumen.render.answers import rest_messages

    sources = [replace(PODCAST, decision_id=i, title="A decision with a fairly long title " * 3) for i in range(1, 201)]
    messages = [valid_blocks(m) for m in rest_messages(sources, more_than_cap=True)]
    listed = [int(i) for m in messages for i in __import__("re").findall(r"\|#(\d+) ", texts(m))]
    assert listed == list(range(1, 201))
    assert "There are more still" in texts(messages[-1])
    assert "Nothing more to show" in texts(valid_blocks(rest_messages([])[0]))
