"""Answers to questions: the text, then every cited decision with its link and outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lumen.render.common import context, escape, section
from lumen.render.limits import MAX_CONTEXT_ELEMENTS, MAX_SECTION_TEXT, Block, check_blocks, clip

OUTCOME_ICON = {"success": "✅", "failure": "❌", "mixed": "➗", None: "…"}


@dataclass(frozen=True)
class Source:
    decision_id: int
    title: str
    venture: str
    created: str
    permalink: str | None
    status: str
    verdict: str | None


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


def _source_line(source: Source) -> str:
    if source.status == "rejected":
        outcome = "🚫 rejected"
    elif source.verdict:
        outcome = f"{OUTCOME_ICON.get(source.verdict, '')} {source.verdict}"
    else:
        outcome = f"… {source.status.replace('_', ' ')}, no outcome yet"
    return f"• {link(source)} · {escape(source.venture)} · {source.created} · {outcome}"


def answer_blocks(text: str, sources: list[Source], footer: str) -> list[Block]:
    blocks: list[Block] = []
    remaining = text
    while remaining and len(blocks) < 5:
        # Break between lines: a cut inside a <link|#12> would leave two broken halves.
        cut = len(remaining) if len(remaining) <= MAX_SECTION_TEXT else remaining.rfind("\n", 0, MAX_SECTION_TEXT) + 1
        cut = cut or MAX_SECTION_TEXT
        chunk, remaining = remaining[:cut], remaining[cut:]
        blocks.append(section(chunk))
    if sources:
        # One source per line, whole: lines fill elements of up to 3000 characters (a clip would cut
        # a link in half), and a context block holds ten of them — more than an answer's 25 sources.
        elements = ["*Sources*"]
        for line in (_source_line(s) for s in sources):
            if len(elements[-1]) + 1 + len(line) <= MAX_SECTION_TEXT:
                elements[-1] += "\n" + line
            else:
                elements.append(line)
        blocks.append(context(*elements[:MAX_CONTEXT_ELEMENTS]))
    blocks.append(context(footer))
    return check_blocks(blocks)
