"""Messages about agents themselves: paused by the circuit breaker, paused or resumed by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lumen.render.common import context, escape, section, usd
from lumen.render.limits import Block, check_blocks, clip


def breaker_tripped_payload(venture: str, role: str, failures: int, reason: str) -> dict[str, Any]:
    text = f"⏸️ Paused the {role} agent of {venture} after {failures} failed runs in a row."
    return {
        "text": text,
        "blocks": check_blocks(
            [
                section(f"*{escape(text)}*\nLast failure: {escape(clip(reason, 2500))}"),
                context(f"Fix the cause, then `/lumen resume {venture} {role}`."),
            ]
        ),
    }


def budget_paused_payload(venture: str, role: str, reason: str) -> dict[str, Any]:
    text = f"💸 Paused the {role} agent of {venture}: its monthly budget is spent."
    return {
        "text": text,
        "blocks": check_blocks(
            [
                section(f"*{escape(text)}*\n{escape(clip(reason, 2500))}"),
                context(f"Raise `budget_usd_month` in lumen.yml, or wait for next month; then `/lumen resume {venture} {role}`."),
            ]
        ),
    }


def budget_blocks(rows: list[tuple[str, str, str, Decimal, Decimal]], month: str) -> list[Block]:
    """Spend against budget per agent: (venture, role, status, spent, budget)."""
    lines = []
    for venture, role, status, spent, budget in rows:
        share = f"{spent / budget:.0%}" if budget else "no budget"
        bar = "🟥" if budget and spent >= budget else "🟨" if budget and spent >= budget * Decimal("0.8") else "🟩"
        lines.append(f"{bar} *{escape(venture)}/{escape(role)}* · {usd(spent)} of {usd(budget)} ({share}) · {status}")
    return check_blocks(
        [
            section(f"*Spend this month ({month})*\n" + ("\n".join(lines) or "_No agents._")),
            context("Budgets are hard: an agent whose next call would overspend is paused. `budget_usd_month` in lumen.yml."),
        ]
    )


def agents_changed_text(action: str, venture: str, roles: list[str], user_id: str) -> str:
    who = ", ".join(roles) if roles else "no agents"
    return f"<@{user_id}> {action} {venture}: {who}."


def chain_stopped_payload(venture: str, chain: list[str], stopped: str, depth: int, limit: int) -> dict[str, Any]:
    """A chain of `after:` wake-ups cut at a loop or at its depth limit: who woke whom, and who was not woken."""
    roles = [link.split("#")[0] for link in chain]
    loop = stopped in roles
    text = (
        f"🔁 Stopped a loop of wake-ups in {venture}: {stopped} was not woken again."
        if loop
        else f"🔁 Stopped a chain of wake-ups in {venture}: {stopped} was not woken, the chain is {depth - 1} deep (limit {limit})."
    )
    path = " → ".join([*chain, f"~{stopped}~"])
    return {
        "text": text,
        "blocks": check_blocks(
            [
                section(f"*{escape(text)}*\n{escape(clip(path, 2500))}"),
                context(
                    "No model was called for it. Agents wake each other through `triggers.after` in lumen.yml; "
                    "LUMEN_CHAIN_DEPTH sets how deep a chain may go."
                ),
            ]
        ),
    }
