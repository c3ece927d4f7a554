"""The extractive cross-venture synthesis: what worked (or failed) in more than one venture."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def extractive_insights(brains: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """From each venture's latest brain sections, the lessons that hold across ventures."""
    worked: dict[str, dict[str, list[int]]] = defaultdict(dict)
    failed: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for venture, sections in sorted(brains.items()):
        for statement in sections.get("worked", []):
            category = (statement.get("key") or ":").split(":", 1)[1]
            if category:
                worked[category][venture] = statement.get("decision_ids", [])
        for statement in sections.get("failed", []):
            category = (statement.get("key") or ":").split(":", 1)[1]
            if category:
                failed[category][venture] = statement.get("decision_ids", [])
    insights = []
    for category in sorted(set(worked) | set(failed)):
        wins, losses = worked.get(category, {}), failed.get(category, {})
        if len(wins) >= 2:
            names = sorted(wins)
            insights.append(
                {
                    "text": f"{category} worked in {len(names)} ventures ({', '.join(names)}): consider it where it fits.",
                    "category": category,
                    "ventures": names,
                    "decision_ids": sorted({i for ids in wins.values() for i in ids})[-30:],
                }
            )
        if len(losses) >= 2:
            names = sorted(losses)
            insights.append(
                {
                    "text": f"{category} failed in {len(names)} ventures ({', '.join(names)}): look hard before trying it again.",
                    "category": category,
                    "ventures": names,
                    "decision_ids": sorted({i for ids in losses.values() for i in ids})[-30:],
                }
            )
        if wins and losses and set(wins) != set(losses) and len(wins) < 2 and len(losses) < 2:
            names = sorted(set(wins) | set(losses))
            insights.append(
                {
                    "text": f"{category} worked in {', '.join(sorted(wins))} but failed in {', '.join(sorted(losses))}: the context decides.",
                    "category": category,
                    "ventures": names,
                    "decision_ids": sorted({i for ids in [*wins.values(), *losses.values()] for i in ids})[-30:],
                }
            )
    return insights[:10]
