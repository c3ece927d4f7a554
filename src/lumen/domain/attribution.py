"""Decision quality per brain version: success rate, approval rate, cost. Pure arithmetic."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

# Below this many decisions with an outcome, a success rate says more about luck than the brain.
MIN_OUTCOMES = 5


@dataclass(frozen=True)
class DecisionRecord:
    brain_version: int | None
    verdict: str | None
    gated: bool
    approved: bool | None  # None while pending or when not gated
    cost_usd: Decimal


@dataclass(frozen=True)
class VersionScore:
    brain_version: int | None
    decisions: int
    with_outcome: int
    successes: int
    failures: int
    gated: int
    approved: int
    cost_usd: Decimal

    @property
    def enough_data(self) -> bool:
        return self.with_outcome >= MIN_OUTCOMES

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.with_outcome if self.enough_data else None

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.gated if self.gated else None

    def describe(self) -> str:
        label = f"v{self.brain_version}" if self.brain_version else "no brain"
        if self.success_rate is None:
            quality = f"not enough data ({self.with_outcome} of {MIN_OUTCOMES} outcomes needed)"
        else:
            quality = f"{self.success_rate:.0%} success ({self.successes}/{self.with_outcome})"
        return f"{label}: {self.decisions} decisions · {quality}"


def score_by_version(records: Iterable[DecisionRecord]) -> list[VersionScore]:
    groups: dict[int | None, list[DecisionRecord]] = {}
    for record in records:
        groups.setdefault(record.brain_version, []).append(record)
    scores = []
    for version, items in groups.items():
        outcomes = [r for r in items if r.verdict in ("success", "failure", "mixed")]
        scores.append(
            VersionScore(
                brain_version=version,
                decisions=len(items),
                with_outcome=len(outcomes),
                successes=sum(1 for r in outcomes if r.verdict == "success"),
                failures=sum(1 for r in outcomes if r.verdict == "failure"),
                gated=sum(1 for r in items if r.gated and r.approved is not None),
                approved=sum(1 for r in items if r.gated and r.approved),
                cost_usd=sum((r.cost_usd for r in items), Decimal(0)),
            )
        )
    return sorted(scores, key=lambda s: (s.brain_version is not None, s.brain_version or 0))
