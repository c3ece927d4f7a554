"""Understanding a question by rules: the typed query (`AskQuery`) it asks for. Pure.

In order: Slack markup and injected instructions come out; the time expression is read
(`domain.timeparse`); ventures are found by name, slug or alias (a close misspelling only for a
public venture, never for a private one), or implied by the channel; then how it turned out
("what failed"), what a human decided ("rejected", "still waiting for approval"), the kind of
question ("did X work?", "A vs B"), topics from the vocabulary with what is excluded ("other
than pricing"), and named things. Whatever is left is free words, which rank but do not filter.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from datetime import datetime

from lumen.ask.vocabulary import Found, Vocabulary, tokens, vocabulary
from lumen.domain.ask_query import MAX_TERMS, AskQuery, Kind, Outcome, Period, Status
from lumen.domain.timeparse import parse_time_range


@dataclass(frozen=True)
class KnownVenture:
    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    channel: str = ""
    channel_id: str | None = None
    private: bool = False
    visible: bool = True  # may the audience of this answer see it?


STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have having how
    i if in into is it its itself me my myself no nor not of off on once only or our ours out over own
    same she should so than that the their theirs them then there these they this those through to too
    under until very was we were what whats when where which while who whom why will with would you your
    yours yourself any all also am anybody anyone anywhere back because before below between both each
    else ever few get how however just like may might much must neither never next now often once other
    per perhaps quite rather since something sometimes soon still such sure there's thing though till
    toward upon us via what's whatever whenever wherever whether whichever whoever whose within without
    yet let lets ok okay i'm im ive i've weve we've were we're pls please thanks thank hey hi hello yo
    tell show give list me know wondering wonder curious interested anyone anything everything everyone
    here there where lately approval approvals proposal proposals""".split()
)
DETERMINERS = frozenset("the a an our your their this that these those each every any some which what whose his her its my no".split())
NEGATION_LEADS = (
    "other than", "besides", "beside", "apart from", "aside from", "except for", "except", "excluding", "exclude",
    "not including", "not counting", "outside of", "outside", "anything but", "nothing about", "not about",
    "not related to", "unrelated to", "but not", "not", "non", "without", "minus", "leaving out", "leave out", "ignoring",
)
NEGATION_WORDS = frozenset(w for lead in NEGATION_LEADS for w in lead.split())
_NEGATION = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(NEGATION_LEADS, key=len, reverse=True)) + r")\b")
# Words that may sit between a negation and what it excludes ("not about any of the hiring stuff").
CONNECTORS = frozenset("about any of the our related to stuff things work or and nor decisions moves or, on around regarding".split())
ALL_VENTURES = re.compile(
    r"\b(all|every|each)\s+(of\s+the\s+|of\s+our\s+|our\s+|the\s+)?ventures?\b|\bacross\s+(all\s+|the\s+|our\s+)?ventures\b"
    r"|\bcompany[- ]wide\b|\bacross the board\b|\beverywhere\b|\bportfolio[- ]wide\b|\bacross the portfolio\b|\bany venture\b"
)
HERE = re.compile(r"\b(here|this venture|this channel|this project|this business)\b")

# How it turned out. Longest first; negated forms before the plain ones.
OUTCOME_PATTERNS: list[tuple[Outcome, str]] = [
    ("none", r"(?:no|without|don'?t have|do not have|doesn'?t have|haven'?t got|lack(?:ing)?)\s+(?:an?\s+|any\s+)?(?:result|outcome|verdict|results|outcomes)(?:\s+yet)?"
             r"|(?:result|outcome|verdict)s?\s+(?:still\s+)?(?:pending|missing|unknown)|not\s+(?:yet\s+)?measured|awaiting\s+(?:results?|outcomes?)"
             r"|haven'?t\s+heard\s+back|still\s+waiting\s+(?:on|for)\s+(?:results?|outcomes?|numbers)"),
    ("unknown", r"too early to (?:tell|say)|unclear\s+(?:results?|outcomes?)|(?:results?|outcomes?)\s+(?:are|were|is|was)\s+unclear|inconclusive"),
    ("failure", r"did\s*n[o']?t\s+(?:work|pan out|pay off|go well|land|succeed|deliver|help)|does\s*n[o']?t\s+work|did not (?:work|pan out|pay off|go well|land|succeed|deliver|help)"
                r"|not\s+(?:work|succeed)(?:ed)?|(?:went|go|going|gone)\s+(?:wrong|badly|poorly|south|sideways)|fail(?:ed|s|ing|ures?)?"
                r"|flop(?:ped|s)?|backfir(?:ed|es)|bomb(?:ed)?|tank(?:ed)?|(?:was\s+a\s+)?bust|fell\s+(?:flat|short|through)"
                r"|under-?perform(?:ed|ing)?|unsuccessful|misfire[sd]?|duds?|(?:bad|poor|negative|disappointing)\s+results?|disappoint(?:ed|ing)"
                r"|lost\s+(?:us\s+)?money|wast(?:e|ed)\s+(?:of\s+)?money|mistakes?|regrets?|under-?deliver(?:ed|ing|s)?"
                r"|miss(?:ed|es)?\s+(?:the\s+|its\s+|our\s+|their\s+)?(?:targets?|goals?|mark)|(?:bad|poor|negative)\s+outcomes?"),
    ("mixed", r"mixed(?:\s+(?:results?|bag|outcomes?))?|so-?so|partly\s+work(?:ed)?|partially\s+work(?:ed)?|half[- ]work(?:ed)?|middling"),
    ("success", r"work(?:ed|s)(?:\s+out)?|work\s+out|paid\s+off|pay\s+off|went\s+(?:well|great)|go\s+well|succe(?:ss(?:es|ful)?|eded|ed)"
                r"|wins?|winners?|(?:big\s+)?hits?|did\s+well|(?:good|great|positive|strong)\s+(?:results?|outcomes?)|effective|beat\s+(?:the\s+|its\s+|our\s+)?targets?"
                r"|exceed(?:ed|s)?\s+(?:the\s+|its\s+|our\s+)?(?:expectations|targets?|goals?)|hit\s+(?:the\s+|its\s+|our\s+)?(?:targets?|goals?)"),
]
STATUS_PATTERNS: list[tuple[Status, str]] = [
    ("pending", r"(?:still\s+)?(?:waiting|wait|waits)\s+(?:for|on)\s+(?:an?\s+)?(?:approvals?|sign[- ]?off|a\s+decision|decisions|someone|a\s+human|humans|review|me|us)"
                r"|await(?:s|ing)?\s+(?:approvals?|sign[- ]?off|a\s+decision|review)|pending(?:\s+(?:approvals?|sign[- ]?off|review|decisions?))?"
                r"|(?:needs?|needing|requires?|requiring)\s+(?:an?\s+|my\s+|our\s+|your\s+)?(?:approvals?|sign[- ]?off|a\s+decision)|not\s+yet\s+approved|unapproved|undecided"
                r"|open\s+approvals?|in\s+the\s+(?:approval\s+)?queue|up\s+for\s+approval|sitting\s+with\s+(?:a\s+)?humans?"),
    ("expired", r"expir(?:ed|e|es|ing)|timed?\s+out|time-?outs?|lapsed?|went\s+unanswered|unanswered|nobody\s+(?:decided|answered|approved|responded)"
                r"|no\s*one\s+(?:decided|answered|approved|responded)|without\s+(?:anyone|anybody)\s+(?:deciding|answering|approving|responding)"
                r"|never\s+(?:got\s+)?(?:approved|answered|decided)|ran\s+out\s+of\s+time|fell\s+through\s+the\s+cracks"),
    ("rejected", r"reject(?:ed|s|ions?)?|turn(?:ed|s)?\s+down|declin(?:ed|es)|vetoe?(?:d|s)?|said\s+no(?:\s+to)?|say\s+no(?:\s+to)?|shot\s+down|shoot\s+down"
                 r"|nix(?:ed)?|knocked\s+back|refus(?:ed|als?)|denied|disapproved|overruled|blocked\s+by\s+(?:a\s+)?humans?|not\s+approved"),
    ("approved", r"(?:a\s+)?humans?\s+approv(?:ed|e|al)|approv(?:ed|e)(?:\s+by\s+(?:a\s+)?(?:humans?|people|someone|us))?|sign(?:ed)?[- ]off|greenlit|green[- ]lit"
                 r"|ok(?:ay)?(?:'d|ed)|(?:gave|got|given)\s+the\s+go[- ]ahead|rubber[- ]stamped"),
]
CORRECTED = re.compile(
    r"\b(?:corrected|revised|reversed|overturned|re-?graded|re-?scored|changed\s+(?:its\s+|their\s+|the\s+)?(?:verdicts?|outcomes?|results?)"
    r"|(?:verdicts?|outcomes?|results?)\s+(?:were\s+|was\s+)?(?:later\s+)?(?:changed|corrected|revised|updated|reversed))\b"
)
AMOUNT = re.compile(r"\b(?:over|more than|above|at least|bigger than|greater than|exceeding|upwards of)\s+\$?\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|million)?\b(?:\s*(?:dollars|usd|bucks))?")
YES_NO_VERBS = r"(?:go|do|work|work\s+out|turn\s+out|pan\s+out|pay\s+off|end\s+up|land|fare|perform|change|help|succeed|fail|play\s+out|come\s+out|shake\s+out)"
YES_NO = re.compile(
    rf"^\s*(?:so\s+|and\s+|ok\s+|hey\s+|but\s+)?(?:did|does|do|was|were|is|are|has|have|had)\b(?!\s+not\b)"
    rf"|\bhow\s+(?:did|does|do|has|have|is|was|were|are|well\s+did)\b.*\b{YES_NO_VERBS}(?:ed|ing|s)?\b"
    rf"|\bhow\s+(?:is|was|are|were)\b.*\b(?:going|doing|performing|working)\b|\bwhat\s+(?:came|comes|has\s+come)\s+of\b"
    rf"|\bwhat\s+(?:happened|happens)\s+(?:to|with)\b|\bwhat\s+(?:was|were|is)\s+the\s+(?:result|outcome|upshot|verdict)s?\s+of\b"
    rf"|\bworth\s+it\b|\bany\s+good\b"
)
REPORT_CLAUSE = re.compile(
    rf"\b(?:did|have|has|do)\s+(?:it|they|those|these|that|any\s+of\s+them|each)\s+{YES_NO_VERBS}(?:ed|s)?\b"
    rf"|\bhow\s+(?:did|have|has|do)\s+(?:it|they|those|these|that)\s+{YES_NO_VERBS}(?:ed|s)?\b"
)
INDEFINITE = frozenset("anything something any anyone anybody everything all some which what nothing there".split())
COMPARE = re.compile(r"\b(?:compare[sd]?|comparing|comparison|vs\.?|versus|against|better|worse|more|fewer|less|than|difference|differ|side by side|or)\b")
INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b.{0,60}?\b(?:instructions?|prompts?|rules|guidelines|above|previous|prior|everything|system|context)\b"
    r"|\b(?:system|assistant|developer|admin)\s*(?:prompt)?\s*:|<\s*/?\s*(?:question|system|instructions?|lumen-context|prompt)\s*>"
    r"|\byou\s+(?:are|re)\s+(?:now|no\s+longer|in)\b|\bact\s+as\b|\bpretend\s+(?:to|you)\b|\bjailbreak|\bdo\s+anything\s+now\b|\bnew\s+instructions?\b"
    r"|\bfrom\s+now\s+on\b|\breveal\b.{0,40}?\b(?:prompt|instructions?|private|secret|system|hidden)\b"
    r"|\bcite\s+(?:decision|record|#)\s*#?\d+|\b(?:mark|list|call|report|describe|treat)\s+(?:every|all|each)\b.{0,40}?\bas\b"
    r"|\b(?:print|output|show|repeat)\s+(?:your|the)\s+(?:system\s+)?(?:prompt|instructions)\b",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"(?<=[.?!;])\s+|\n+|(?=<\s*/?\s*(?:question|system|instructions?)\s*>)")


def clean(text: str) -> str:
    """Slack markup out, entities unescaped, apostrophes plain."""
    text = re.sub(r"<[@#!][^>|]*\|([^>]*)>", r"\1", text or "")
    text = re.sub(r"<[@!][^>]*>", " ", text)
    text = re.sub(r"<(?:https?|mailto):[^>|]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<(?:https?|mailto):[^>]*>", " ", text)
    text = html.unescape(text).replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.split())


def without_injection(text: str) -> str:
    """The question without sentences (or trailing clauses) that instruct rather than ask."""
    kept = []
    for sentence in SENTENCE.split(text):
        m = INJECTION.search(sentence)
        if m is None:
            kept.append(sentence)
            continue
        # Keep what came before the instruction in its sentence, up to the last clause break.
        before = sentence[: m.start()]
        cut = max(before.rfind(","), before.rfind(" - "), before.rfind(" and "), before.rfind(" then "))
        if cut > 0:
            kept.append(before[:cut])
    return " ".join(s.strip() for s in kept if s.strip())


def _expand_contractions(text: str) -> str:
    text = re.sub(r"\b(\w+)n't\b", r"\1 not", text)
    text = re.sub(r"\b(what|that|it|there|who|where|here)'s\b", r"\1 is", text)
    return re.sub(r"'s\b", "", text)


# --- ventures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mention:
    venture: KnownVenture
    start: int
    end: int
    excluded: bool


def _names(venture: KnownVenture, vocab: Vocabulary | None = None) -> list[str]:
    """Slug, name, aliases, and the name's first word when it is no ordinary word we know of
    ("Acme" for "Acme Analytics"); that part counts only when written capitalised."""
    names = {venture.slug.lower(), venture.name.lower(), *(a.lower() for a in venture.aliases)}
    first = venture.name.lower().split()[0] if venture.name.split() else ""
    if len(first) >= 3 and first.isalpha() and not _common_word(first, vocab or vocabulary()):
        names.add(first)
    return sorted((n for n in names if n), key=len, reverse=True)


def _common_word(word: str, vocab: Vocabulary) -> bool:
    """Does this word also mean something in how people write about decisions ("pilot", "launch")?"""
    return word in STOPWORDS or word in vocab.filler or word in vocab.all_words


def _venture_mentions(text: str, ventures: list[KnownVenture], channel_venture: KnownVenture | None, vocab: Vocabulary) -> list[_Mention]:
    found: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for venture in ventures:
        for name in _names(venture, vocab):
            pattern = r"\b" + r"[\s-]+".join(map(re.escape, name.split())) + r"(?:'s)?\b"
            for m in re.finditer(pattern, text, re.IGNORECASE):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                written = m.group(0)
                single = len(name.split()) == 1
                partial = name == venture.name.lower().split()[0] and name not in (venture.slug.lower(), venture.name.lower())
                if partial and not written[:1].isupper():
                    continue  # part of a name counts only written as a name ("Northwind", not "blue")
                if single and not _reads_as_name(text, m, written, venture, channel_venture, vocab):
                    continue
                taken.append((m.start(), m.end()))
                found.append(_Mention(venture, m.start(), m.end(), _excluded(text, m.start())))
    return found


def _reads_as_name(text: str, m: re.Match[str], written: str, venture: KnownVenture,
                   channel_venture: KnownVenture | None, vocab: Vocabulary) -> bool:
    """A one-word venture name that is also an ordinary word counts as the venture only when it
    reads as a name: capitalised mid-sentence, possessive, or not after "the", "our", "which"…;
    and, in another venture's channel, only when capitalised or possessive."""
    word = written.lower().removesuffix("'s")
    if not _common_word(word, vocab):
        return True
    capital = written[:1].isupper()
    before = text[: m.start()].rstrip()
    sentence_start = not before or before[-1] in ".?!:;"
    proper = (capital and not sentence_start) or written.lower().endswith("'s")
    if proper:
        return True
    previous = re.findall(r"[a-z']+", before.lower())[-1:] or [""]
    if previous[0] in DETERMINERS:
        return False
    after = text[m.end():].lstrip().lower()
    if re.match(r"(program|programme|project|run|test|phase|scheme|study|group)s?\b", after):
        return False
    return channel_venture is None or channel_venture.slug == venture.slug


def _excluded(text: str, start: int) -> bool:
    before = text[max(0, start - 40): start].lower()
    return bool(re.search(r"\b(?:" + "|".join(re.escape(n) for n in NEGATION_LEADS) + r")\s+(?:for\s+|the\s+)?$", before))


def _fuzzy(words: list[str], ventures: list[KnownVenture], vocab: Vocabulary) -> list[KnownVenture]:
    """Close misspellings of a public venture's slug or first name ("acmee", "brightbx")."""
    found = []
    for venture in ventures:
        if venture.private or not venture.visible:
            continue  # a private venture is named exactly, or not at all
        if any(_common_word(w, vocab) for w in tokens(venture.slug) + tokens(venture.name)[:1]):
            continue  # "pilots" is not a misspelt Pilot
        targets = {venture.slug.lower(), venture.name.lower().split()[0], *(a.lower() for a in venture.aliases if " " not in a)}
        for word in words:
            if len(word) < 5 or word in STOPWORDS or _common_word(word, vocab):
                continue
            if difflib.get_close_matches(word, list(targets), n=1, cutoff=0.82):
                found.append(venture)
                break
    return found


# --- the rest ----------------------------------------------------------------------------------


def _take(pattern: str, text: str) -> tuple[bool, str]:
    regex = re.compile(r"\b(?:" + pattern + r")\b")
    if regex.search(text):
        return True, regex.sub(" ", text)
    return False, text


def _capitalised(text: str) -> set[str]:
    """Words written as names: capitalised or all capitals, not at the start of a sentence."""
    names = set()
    for m in re.finditer(r"(?<![.?!:;]\s)(?<!^)\b([A-Z][A-Za-z0-9]*|[A-Z0-9]{2,})\b", text):
        names.add(m.group(1).lower())
    return names - {"i"}


def understand(
    text: str,
    ventures: list[KnownVenture],
    *,
    now: datetime,
    tz: str,
    channel_id: str | None = None,
    vocab: Vocabulary | None = None,
) -> AskQuery:
    vocab = vocab or vocabulary()
    original = without_injection(clean(text))
    working = original

    # Time first: "March" and "Q3" are not topics.
    time = parse_time_range(working, now, tz)
    if time is not None and time.matched:
        working = re.sub(re.escape(time.matched), " ", working, count=1, flags=re.IGNORECASE)

    # Ventures: by name, or by the channel the question is asked in.
    channel_venture = next((v for v in ventures if channel_id and v.channel_id == channel_id), None)
    mentions = _venture_mentions(working, ventures, channel_venture, vocab)
    for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
        if mention.venture.visible:
            working = working[: mention.start] + " " + working[mention.end:]
    visible_mentions = [m for m in mentions if m.venture.visible]
    named = [m.venture for m in sorted(visible_mentions, key=lambda m: m.start) if not m.excluded]
    excluded = [m.venture for m in visible_mentions if m.excluded]
    lowered = _expand_contractions(working.lower())
    if not named and not excluded:
        named = _fuzzy(tokens(lowered), ventures, vocab)
        if named:
            close = {w for v in named for w in tokens(lowered) if difflib.get_close_matches(w, [v.slug, v.name.lower().split()[0]], n=1, cutoff=0.82)}
            lowered = " ".join(w for w in lowered.split() if re.sub(r"\W", "", w) not in close)
    everywhere, lowered = _take(ALL_VENTURES.pattern, lowered)
    here, lowered = _take(HERE.pattern, lowered)
    slugs: list[str] = list(dict.fromkeys(v.slug for v in named))
    if not slugs and channel_venture is not None and (here or not everywhere) and channel_venture.visible:
        slugs = [channel_venture.slug]

    # The kind of question, before its outcome words are read as filters.
    kind: Kind = "list"
    if len(slugs) >= 2 and COMPARE.search(lowered):
        kind = "compare"
    elif YES_NO.search(lowered):
        first_words = tokens(lowered)[:4]
        if not INDEFINITE & set(first_words[1:4]):
            kind = "yes_no"

    # "…and did it work out?", "how did they go": asks what happened to them, filters nothing.
    reports, lowered = _take(REPORT_CLAUSE.pattern, lowered)
    outcomes: list[Outcome] = []
    for outcome, pattern in OUTCOME_PATTERNS:
        hit, lowered = _take(pattern, lowered)
        if hit and kind != "yes_no" and not reports:
            outcomes.append(outcome)
    statuses: list[Status] = []
    for status, pattern in STATUS_PATTERNS:
        hit, lowered = _take(pattern, lowered)
        if hit:
            statuses.append(status)
    if "approved" in statuses and "rejected" in statuses and "not approved" in original.lower():
        statuses.remove("approved")
    corrected, lowered = _take(CORRECTED.pattern, lowered)
    min_amount = None
    if m := AMOUNT.search(lowered):
        value = float(m.group(1).replace(",", ""))
        value *= {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(m.group(2) or "", 1)
        min_amount = value
        lowered = lowered[: m.start()] + " " + lowered[m.end():]

    words = tokens(lowered)
    found = vocab.find(words)
    if any(not f.weak(vocab) for f in found if f.key):
        found = [f for f in found if not f.weak(vocab)]  # "which sponsorships did we buy?": sponsorships
    negated = _negated_spans(lowered, words)
    topics: list[str] = []
    exclude_topics: list[str] = []
    specifics: list[str] = []
    exclude_terms: list[str] = []
    used: set[int] = set()
    excluded_found: list[Found] = []
    for item in found:
        used |= set(range(item.start, item.end))
        is_negated = any(_negates(lead_end, item.start, words, found) for lead_end in negated)
        if item.key:
            (exclude_topics if is_negated else topics).append(item.key)
            if is_negated:
                excluded_found.append(item)
            # "LinkedIn ads" is paid social, and LinkedIn's in particular.
            said = f" {' '.join(words[item.start:item.end])} "
            specifics += [" ".join(p.words) for p in vocab.specifics if not is_negated and f" {' '.join(p.words)} " in said]
        else:
            (exclude_terms if is_negated else specifics).append(item.text)
    names = _capitalised(original)
    terms: list[str] = []
    named_run: list[str] = []  # consecutive words written as a name ("Marlow Clinics") are one thing
    for index, word in enumerate(words):
        skip = index in used or word in STOPWORDS or word in vocab.filler or word in NEGATION_WORDS or word.isdigit() or len(word) < 2
        if skip or word not in names:
            if named_run:
                specifics.append(" ".join(named_run))
                named_run = []
        if skip:
            continue
        if any(_negates(lead_end, index, words, found) for lead_end in negated):
            exclude_terms.append(word)
        elif word in names:
            named_run.append(word)
        else:
            terms.append(word)
    if named_run:
        specifics.append(" ".join(named_run))
    # "partnerships other than referral deals": leaving out part of the topic asked about leaves
    # out those words, not the whole topic.
    for item in excluded_found:
        if item.key in topics and item.key in exclude_topics:
            exclude_topics.remove(item.key)
            exclude_terms.append(item.text)
    topics_t = vocab.narrowest(topics)
    if kind == "yes_no" and not specifics:
        # "how did the four-day week go?": a named thing the vocabulary files under a topic.
        specifics = [f.text for f in found if f.key and len(f.phrase.words) > 1 and f.key in topics]
    period = Period(start=time.start, end=time.end, label=time.label) if time is not None else None
    return AskQuery(
        ventures=tuple(slugs),
        exclude_ventures=tuple(dict.fromkeys(v.slug for v in excluded)),
        named_venture=bool(named),
        period=period,
        topics=topics_t,
        exclude_topics=tuple(dict.fromkeys(exclude_topics)),
        specifics=tuple(dict.fromkeys(specifics))[:MAX_TERMS],
        outcomes=tuple(dict.fromkeys(outcomes)),
        statuses=tuple(dict.fromkeys(statuses)),
        corrected=corrected,
        min_amount_usd=min_amount,
        terms=tuple(dict.fromkeys(terms))[:MAX_TERMS],
        exclude_terms=tuple(dict.fromkeys(exclude_terms))[:MAX_TERMS],
        kind=kind,
    )


def hidden_named(text: str, ventures: list[KnownVenture], *, channel_id: str | None = None) -> bool:
    """Did the question name, exactly, a venture this audience may not see? For logs only: the
    answer reads as it would for any unknown word, so it never confirms such a venture exists."""
    vocab = vocabulary()
    cleaned = without_injection(clean(text))
    channel_venture = next((v for v in ventures if channel_id and v.channel_id == channel_id), None)
    return any(not m.venture.visible for m in _venture_mentions(cleaned, ventures, channel_venture, vocab))


def _negated_spans(lowered: str, words: list[str]) -> list[int]:
    """Token indexes just after each negation lead ("other than", "besides", "not about")."""
    ends = []
    for m in _NEGATION.finditer(lowered):
        ends.append(len(tokens(lowered[: m.end()])))
    return ends


def _negates(lead_end: int, start: int, words: list[str], found: list[Found]) -> bool:
    """Is the word at `start` inside the scope of the negation ending at token `lead_end`? Only
    connecting words and other excluded things may stand between ("other than pricing or ads")."""
    if start < lead_end or start - lead_end > 8:
        return False
    covered = {i for f in found for i in range(f.start, f.end)}
    return all(words[i] in CONNECTORS or i in covered for i in range(lead_end, start))
