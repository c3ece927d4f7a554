"""Answers to questions: the text, then every cited decision with its link and outcome.

A long answer shows its first page, says how many more there are, and carries a "Show all N"
button; the rest then comes as messages of its own (`rest_messages`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lumen.render.common import context, escape, section
from lumen.render.limits import MAX_BLOCKS_MESSAGE, MAX_CONTEXT_ELEMENTS, MAX_SECTION_TEXT, Block, check_blocks, clip

OUTCOME_ICON = {"success": "✅", "failure": "❌", "mixed": "➗", None: "…"}
SHOW_ALL_ACTION = "ask_show_all"


@dataclass(frozen=True)
class Source:
    decision_id: int
    title: str
    venture: str
    created: str
    permalink: str | None
    status: str
    verdict: str | None
    corrected_from: str | None = None


def link(source: Source) -> str:
    label = f"#{source.decision_id} {escape(clip(source.title, 80))}"
    return f"<{source.permalink}|{label}>" if source.permalink else label


def linkify(answer: str, sources: dict[int, Source]) -> str:
    """Escape the model's text (no mentions or links of its own), then turn [#12] into links."""
    safe = escape(answer)

    def replace(match: re.Match[str]) -> str:
        source = sources.get(int(match.group(1)))
        if source is None:
            return ""  # a citation of something it was not given: dropped, not trusted
        return f"<{source.permalink}|#{source.decision_id}>" if source.permalink else f"#{source.decision_id}"

    return re.sub(r"\[#(\d+)\]", replace, safe)


def source_line(source: Source) -> str:
    if source.status == "rejected":
        outcome = "🚫 rejected"
    elif source.status == "expired":
        outcome = "⌛ expired before anyone decided"
    elif source.status == "awaiting_approval":
        outcome = "⏳ waiting for approval"
    elif source.verdict:
        outcome = f"{OUTCOME_ICON.get(source.verdict, '')} {source.verdict}"
        if source.corrected_from:
            outcome += f" (first reported {source.corrected_from})"
    else:
        outcome = f"… {source.status.replace('_', ' ')}, no outcome yet"
    return f"• {link(source)} · {escape(source.venture)} · {source.created} · {outcome}"


def _lines_in_sections(lines: list[str], first: str = "") -> list[str]:
    """Whole lines packed into texts of at most 3000 characters (a cut would break a link)."""
    texts = [first] if first else [""]
    for line in lines:
        if texts[-1] and len(texts[-1]) + 1 + len(line) > MAX_SECTION_TEXT:
            texts.append(line)
        else:
            texts[-1] = f"{texts[-1]}\n{line}" if texts[-1] else line
    return [t for t in texts if t]


def answer_blocks(
    text: str, sources: list[Source], footer: str, *, more: str | None = None, show_all: tuple[str, int] | None = None
) -> list[Block]:
    """The answer, its sources, how many more there are (with the button that shows them), and
    the footer that says how the question was understood."""
    blocks: list[Block] = []
    remaining = text
    while remaining and len(blocks) < 5:
        # Break between lines: a cut inside a <link|#12> would leave two broken halves.
        cut = len(remaining) if len(remaining) <= MAX_SECTION_TEXT else remaining.rfind("\n", 0, MAX_SECTION_TEXT) + 1
        cut = cut or MAX_SECTION_TEXT
        chunk, remaining = remaining[:cut], remaining[cut:]
        blocks.append(section(chunk))
    if sources:
        elements = _lines_in_sections([source_line(s) for s in sources], "*Sources*")
        for start in range(0, len(elements), MAX_CONTEXT_ELEMENTS):
            if len(blocks) >= MAX_BLOCKS_MESSAGE - 3:
                break
            blocks.append(context(*elements[start: start + MAX_CONTEXT_ELEMENTS]))
    if more:
        accessory = None
        if show_all is not None:
            value, count = show_all
            accessory = {
                "type": "button",
                "action_id": SHOW_ALL_ACTION,
                "text": {"type": "plain_text", "text": f"Show all {count}"},
                "value": value,
            }
        blocks.append(section(escape(more), accessory=accessory))
    blocks.append(context(escape(footer)))
    return check_blocks(blocks)


def rest_messages(sources: list[Source], *, more_than_cap: bool = False) -> list[list[Block]]:
    """The rest of a long answer: its decisions, one line each, in as many messages as it takes."""
    if not sources:
        return [check_blocks([section("Nothing more to show: every decision that answers this was in the answer.")])]
    texts = _lines_in_sections([source_line(s) for s in sources])
    per_message = MAX_BLOCKS_MESSAGE - 2
    messages: list[list[Block]] = []
    for start in range(0, len(texts), per_message):
        messages.append([section(t) for t in texts[start: start + per_message]])
    messages[0].insert(0, context(f"The other {len(sources)} decision{'s' if len(sources) != 1 else ''} that answer this"))
    if more_than_cap:
        messages[-1].append(context("There are more still: narrow the question (a venture, a period, a topic) to see them."))
    return [check_blocks(m) for m in messages]
