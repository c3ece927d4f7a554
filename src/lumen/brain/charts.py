"""From decision quality per brain version to what the chart and the summary show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lumen.domain.attribution import VersionScore, pool_thin
from lumen.render.charts import VersionPoint


def _short_label(score: VersionScore) -> str:
    if score.brain_version is None:
        return "none"
    if score.through is not None and score.through != score.brain_version:
        return f"v{score.brain_version}–{score.through}"
    return f"v{score.brain_version}"


def chart_points(scores: list[VersionScore]) -> list[VersionPoint]:
    """One point per version, thin versions pooled with their neighbours (as the summary does)."""
    return [
        VersionPoint(label=_short_label(s), success_rate=s.success_rate, outcomes=s.with_outcome, spend_usd=s.cost_usd)
        for s in pool_thin(scores)
    ]


def score_json(score: VersionScore) -> dict[str, Any]:
    return {**score.__dict__, "cost_usd": str(score.cost_usd)}


def score_from_json(data: dict[str, Any]) -> VersionScore:
    return VersionScore(**{**data, "cost_usd": Decimal(str(data.get("cost_usd", "0")))})
