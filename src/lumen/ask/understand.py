"""Understanding a question: which ventures, which time, which topic, which outcomes. Pure.

Ventures are found by slug, name, alias or a close misspelling ("acmee"), or
by the channel the question is asked in. The rest of the words become the
topic search, with a few synonyms so "ads" also finds "advertising".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from lumen.domain.timeparse import TimeRange, parse_time_range


@dataclass(frozen=True)
class KnownVenture:
    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    channel: str = ""
    channel_id: str | None = None
    private: bool = False


@dataclass(frozen=True)
class Question:
    text: str
    ventures: tuple[KnownVenture, ...]  # empty: every venture the asker may see
    named_venture: bool  # the question named it (rather than the channel implying it)
    time: TimeRange | None
    verdict: str | None
    categories: tuple[str, ...]
    terms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def scope(self) -> str:
        who = " and ".join(v.name for v in self.ventures) if self.ventures else "any venture"
        return f"{who}" + (f" in {self.time.label}" if self.time else "")


STOPWORDS = set(
    """a an and any are as at be been did do does done for from had has have how i in into is it its
    last lately me my of on or our past previous since so than that the their them then there these they
    this those to try tried trying us was we were what whats when where which who why will with you your
    about anything everything something all ever recent recently tell show give list please can could would
    lumen venture ventures quarter month year week weeks months years days day time ago happen happened
    decide decided decisions decision do doing make made move moves go went result results outcome outcomes""".split()
)
# Words people use for a topic → the categories it covers and more words to search for.
TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pricing": (("pricing_change",), ("price", "pricing", "plan", "tier", "discount")),
    "price": (("pricing_change",), ("price", "pricing", "plan", "tier", "discount")),
    "prices": (("pricing_change",), ("price", "pricing", "plan", "tier", "discount")),
    "discount": (("pricing_change",), ("discount",)),
    "ads": ((), ("ads", "ad", "advertising", "sponsor", "linkedin", "campaign")),
    "advertising": ((), ("ads", "ad", "advertising", "sponsor", "linkedin", "campaign")),
    "marketing": (("marketing",), ("marketing", "campaign", "webinar", "content")),
    "hiring": ((), ("hire", "hiring", "recruit", "contractor")),
    "hire": ((), ("hire", "hiring", "recruit", "contractor")),
    "security": (("security",), ("security", "soc", "audit")),
    "customers": (("customer_commitment",), ("customer", "commit", "promise")),
    "commitments": (("customer_commitment",), ("commit", "promise")),
    "stage": (("stage_transition",), ("stage",)),
    "spend": (("resource_allocation",), ("spend", "budget", "hire")),
    "dependencies": (("new_dependency",), ("adopt", "dependency", "partner")),
    "tools": (("new_dependency",), ("adopt", "tool", "partner")),
}
VERDICTS = (
    ("failure", r"\b(fail(ed|ures?)?|flop(ped)?|didn'?t work|did not work|went wrong|backfired)\b"),
    ("success", r"\b(work(ed|s)?|succe(ss|eded|ssful)|paid off|went well|wins?)\b"),
    ("mixed", r"\bmixed\b"),
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower())


def _find_ventures(text: str, ventures: list[KnownVenture]) -> list[KnownVenture]:
    lowered = text.lower()
    words = [w.removesuffix("'s") for w in _words(text)]
    found = []
    for venture in ventures:
        names = {venture.slug, venture.name.lower(), *(a.lower() for a in venture.aliases)}
        if any(re.search(rf"\b{re.escape(name)}\b", lowered) for name in names):
            found.append(venture)
    if found:
        return found
    # Close misspellings of a slug or of a name's first word ("acmee", "brightbx").
    for venture in ventures:
        targets = {venture.slug, venture.name.lower().split()[0], *(a.lower() for a in venture.aliases)}
        for word in words:
            if len(word) >= 4 and word not in STOPWORDS and difflib.get_close_matches(word, targets, n=1, cutoff=0.8):
                found.append(venture)
                break
    return found


def understand(
    text: str,
    ventures: list[KnownVenture],
    *,
    now: datetime,
    tz: str,
    channel_id: str | None = None,
) -> Question:
    named = _find_ventures(text, ventures)
    in_channel = [v for v in ventures if channel_id and v.channel_id == channel_id]
    chosen = named or in_channel
    time = parse_time_range(text, now, tz)
    rest = text.lower()
    if time is not None and time.matched:
        rest = rest.replace(time.matched, " ")
    verdict = None
    for name, pattern in VERDICTS:
        if re.search(pattern, rest):
            verdict = name
            rest = re.sub(pattern, " ", rest)
            break
    venture_words = {w for v in chosen for w in _words(f"{v.slug} {v.name} {' '.join(v.aliases)}")}
    categories: list[str] = []
    terms: list[str] = []
    for word in _words(rest):
        word = word.removesuffix("'s")
        if word in STOPWORDS or word in venture_words or word.isdigit() or len(word) < 3:
            continue
        if word in TOPICS:
            cats, synonyms = TOPICS[word]
            categories += [c for c in cats if c not in categories]
            terms += [t for t in synonyms if t not in terms]
        elif word not in terms and not difflib.get_close_matches(word, list(venture_words), n=1, cutoff=0.8):
            terms.append(word)
    return Question(
        text=text,
        ventures=tuple(chosen),
        named_venture=bool(named),
        time=time,
        verdict=verdict,
        categories=tuple(categories),
        terms=tuple(terms),
    )
