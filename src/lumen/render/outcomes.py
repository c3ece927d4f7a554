"""Recording outcomes in Slack: the modal, and the note left in the decision's thread."""

from __future__ import annotations

from typing import Any

from lumen.render.common import context, escape, mention, section
from lumen.render.limits import check_blocks, clip

RECORD_ACTION = "outcome_record"
OUTCOME_MODAL = "outcome_modal"
VERDICT_ICON = {"success": "✅", "failure": "❌", "mixed": "➗", "unknown": "❔"}


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": f"{VERDICT_ICON[value]} {value}"}, "value": value}


def _text_input(block_id: str, label: str, *, optional: bool = True, multiline: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": block_id, "multiline": multiline},
    }


def outcome_modal(decision_id: int, title: str, existing: str | None, channel_id: str | None) -> dict[str, Any]:
    blocks = [section(f"*#{decision_id} {escape(clip(title, 200))}*")]
    if existing:
        blocks.append(section(f"⚠️ {escape(existing)} Saving adds a new outcome that supersedes it; the old one is kept."))
    blocks += [
        {
            "type": "input",
            "block_id": "verdict",
            "label": {"type": "plain_text", "text": "Verdict"},
            "element": {
                "type": "static_select",
                "action_id": "verdict",
                "options": [_option(v) for v in ("success", "failure", "mixed")],
            },
        },
        _text_input("metric", "Metric (e.g. MRR, signups)"),
        _text_input("before", "Before"),
        _text_input("after", "After"),
        _text_input("note", "Note", multiline=True),
    ]
    return {
        "type": "modal",
        "callback_id": OUTCOME_MODAL,
        "private_metadata": f"{decision_id}|{int(bool(existing))}|{channel_id or ''}",
        "title": {"type": "plain_text", "text": "Record outcome"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": check_blocks(blocks, modal=True),
    }


def _reporter(by: str | None) -> str:
    return f" by {mention(by)}" if by else ""


def outcome_line(verdict: str, by: str | None, metric: str | None, before: float | None, after: float | None) -> str:
    """The decision card's own line about its outcome (the thread reply has the note)."""
    text = f"📈 Outcome: {VERDICT_ICON.get(verdict, '')} *{verdict}*"
    if metric:
        change = f" {before:g} → {after:g}" if before is not None and after is not None else ""
        text += f" · {escape(metric)}{change}"
    return text + f" · reported{_reporter(by)}"


def with_outcome(blocks: list[dict[str, Any]], decision_id: int, line: str) -> list[dict[str, Any]]:
    """A posted decision card, changed in place for its latest outcome: the outcome line above
    its buttons (replacing an earlier one), and "Record outcome" offered as a correction."""
    block_id = f"outcome:{decision_id}"
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == block_id:
            continue
        if block.get("type") == "actions":
            out.append(context(line) | {"block_id": block_id})
            block = {
                **block,
                "elements": [
                    {**e, "text": {"type": "plain_text", "text": "Correct outcome"}} if e.get("action_id") == RECORD_ACTION else e
                    for e in block.get("elements", [])
                ],
            }
        out.append(block)
    return check_blocks(out)


def outcome_recorded_text(
    verdict: str,
    by: str | None,
    metric: str | None,
    before: float | None,
    after: float | None,
    note: str | None,
    *,
    superseded: int | None = None,
) -> str:
    who = _reporter(by)
    text = f"{VERDICT_ICON.get(verdict, '')} Outcome recorded{who}: *{verdict}*"
    if metric:
        change = f" {before:g} → {after:g}" if before is not None and after is not None else ""
        text += f" · {escape(metric)}{change}"
    if note:
        text += f"\n>{escape(clip(note, 1500))}"
    if superseded:
        text += f"\n_Supersedes outcome #{superseded}, which is kept._"
    return text
