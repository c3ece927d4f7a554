"""The topic vocabulary (src/lumen/ask/vocabulary.yaml) as data: well formed, whole words, and
wide enough for how people write about each topic.

The sentences below are the kind a founder or an agent writes; each must land in its topic and
none in a neighbour's. They are checked against the vocabulary itself (question side) and through
the real full-text indexes in test_retrieval.py and test_retrieval_quality.py (decision side).
"""

from __future__ import annotations

import re

import pytest

from lumen.ask.search_syntax import fts5, tsquery
from lumen.ask.vocabulary import Phrase, forms, parse_vocabulary, tokens, vocabulary

V = vocabulary()


def topics_in(text: str) -> set[str]:
    return {f.key for f in V.find(tokens(text)) if f.key}


def test_the_file_is_well_formed() -> None:
    assert {"pricing", "marketing", "ads", "hiring", "product", "partnerships", "spend", "customers", "security"} <= set(V.topics)
    for topic in V.topics.values():
        assert topic.label and topic.phrases, topic.key
        if topic.parent:
            assert topic.parent in V.topics and topic.key in V.family(topic.parent)
    assert "paid_social" in V.family("marketing") and "marketing" in V.ancestors("paid_social")


def test_an_unknown_parent_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        parse_vocabulary({"topics": {"ads": {"parent": "nowhere", "words": ["ads"]}}})


@pytest.mark.parametrize(
    ("word", "included", "excluded"),
    [
        ("hire", {"hire", "hires", "hired", "hiring"}, set()),
        ("ads", {"ads"}, {"ad", "adding"}),
        ("price", {"price", "prices", "priced", "pricing"}, set()),
        ("recruitment", {"recruitment", "recruitments"}, {"recruitmented"}),  # a noun takes no verb forms
        ("rate!", {"rate"}, {"rating", "rated"}),  # marked exact
        ("plan", {"plans", "planned", "planning"}, set()),
    ],
)
def test_forms_are_spelled_out_not_stemmed(word: str, included: set[str], excluded: set[str]) -> None:
    found = set(Phrase.parse(word).last_forms()) if word.endswith("!") else set(forms(word))
    assert included <= found and not excluded & found, found


@pytest.mark.parametrize(
    ("sentence", "topic"),
    [
        # pricing and discounts
        ("Bump the Pro tier from $49 to $59", "pricing"),
        ("Move to per-seat billing for team accounts", "pricing"),
        ("Grandfather existing subscribers at the old rate", "pricing"),
        ("Knock 20% off annual subscriptions in January", "discounts"),
        ("Send lapsed customers a coupon code", "discounts"),
        ("Run a Black Friday sale", "discounts"),
        # ads and their kinds
        ("Put $2k into PPC on Bing", "search_ads"),
        ("Stop bidding on our brand name in Google Ads", "search_ads"),
        ("Try paid social on Instagram", "paid_social"),
        ("Boost the launch post on LinkedIn", "paid_social"),
        ("Promoted posts for the webinar", "paid_social"),
        ("Run banner ads on industry sites", "display_ads"),
        ("Retarget site visitors who left checkout", "display_ads"),
        ("Sponsor the DataOps newsletter for a month", "sponsorships"),
        ("Buy a host-read spot on a podcast", "sponsorships"),
        # other marketing
        ("Rewrite the top landing pages for search", "seo"),
        ("Start a weekly founder newsletter", "email"),
        ("Host a meetup for designers", "events"),
        ("Get a booth at the trade show", "events"),
        ("Pitch our story to TechCrunch", "pr"),
        # hiring
        ("Bring on a freelance illustrator", "hiring"),
        ("Open a req for a senior backend engineer", "hiring"),
        ("Backfill the support lead who left", "hiring"),
        ("Recruit a fractional CFO", "hiring"),
        ("Add two seasonal staff for the busy months", "hiring"),
        # product, partnerships, tools
        ("Ship dark mode to everyone", "product"),
        ("Sunset the legacy Android app", "product"),
        ("Team up with Shopify on a co-branded bundle", "partnerships"),
        ("Reseller agreement for Germany", "partnerships"),
        ("Switch payroll to Gusto", "tools"),
        ("Adopt Linear for issue tracking", "tools"),
        # customer commitments, security, spend, operations
        ("Promise Globex a custom export by March", "customers"),
        ("Guarantee 99.9% uptime in the SLA", "customers"),
        ("Lock their rate for two years", "customers"),
        ("Kick off the SOC 2 compliance audit", "security"),
        ("Turn on two-factor login for staff", "security"),
        ("Build a GDPR data-deletion flow", "security"),
        ("Lease a second espresso machine", "spend"),
        ("Buy new laptops for the team", "spend"),
        ("Close the workshop on Mondays: new opening hours", "operations"),
    ],
)
def test_how_people_write_about_each_topic(sentence: str, topic: str) -> None:
    found = topics_in(sentence)
    # In the topic itself or in one of its parts ("lease a machine" is a purchase, part of spend).
    assert any(t == topic or topic in V.ancestors(t) for t in found), (sentence, found)


@pytest.mark.parametrize(
    ("sentence", "not_topic"),
    [
        ("Adding bulk CSV import", "ads"),
        ("Add an admin role for team accounts", "ads"),
        ("Make reports ad hoc: any date range", "ads"),
        ("Post a job ad for a designer", "ads"),
        ("Start using Segment to collect events", "events"),
        ("Contract a part-time bookkeeper", "customers"),
        ("Turn on two-factor login for all staff accounts", "hiring"),
        ("Open a second location in Austin", "hiring"),
        ("Cut the AWS bill by moving to reserved instances", "pricing"),
        ("Launch on Product Hunt", "product"),
        ("Sponsor the Morning Brew newsletter", "email"),
        ("Interview ten customers about onboarding", "hiring"),
        ("Plan the team offsite", "pricing"),
    ],
)
def test_neighbours_do_not_pull_each_other_in(sentence: str, not_topic: str) -> None:
    assert not_topic not in topics_in(sentence), (sentence, topics_in(sentence))


def test_full_text_queries_carry_only_words_and_operators() -> None:
    """Nothing a user types reaches a MATCH or tsquery string except [a-z0-9] words."""
    hostile = Phrase.parse("\"); DROP TABLE decisions; -- ' OR 1=1 NEAR( :x {title}")
    for text in (fts5([hostile]), tsquery([hostile]), fts5([hostile], "title"), tsquery([hostile], "named")):
        words = re.sub(r"\b(OR|NOT|NEAR)\b|[\"(){}:|&!<>\-,'\s]|\d+", " ", text)
        assert set(words.split()) <= {"drop", "table", "decisions", "or", "near", "x", "title", "titles", "AC", "A"}, text
        assert ";" not in text and "--" not in text


def test_every_topic_word_is_searchable_on_both_databases() -> None:
    for topic in V.topics.values():
        for phrase in topic.phrases:
            assert phrase.words, (topic.key, phrase.text)
            assert fts5([phrase]) and tsquery([phrase]), (topic.key, phrase.text)
