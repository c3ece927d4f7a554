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
    through: int | None = None  # pooled: versions brain_version..through

    @property
    def label(self) -> str:
        if self.brain_version is None:
            return "before any brain"
        if self.through is not None and self.through != self.brain_version:
            return f"v{self.brain_version}–v{self.through}"
        return f"v{self.brain_version}"

    @property
    def enough_data(self) -> bool:
        return self.with_outcome >= MIN_OUTCOMES

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.with_outcome if self.enough_data else None

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.gated if self.gated else None



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


def pool_thin(scores: list[VersionScore]) -> list[VersionScore]:
    """Consecutive versions with too few outcomes each, pooled until together they have enough.

    A weekly brain that guided three decisions cannot be judged alone; "v3–v5: 7 of 11
    worked" can. A version with enough outcomes of its own stands alone, decisions made before
    any brain are never pooled with a brain's, and a trailing run still too thin stays as it is
    (the summary says it is too young to judge).
    """
    out: list[VersionScore] = []
    run: list[VersionScore] = []

    def close() -> None:
        if run:
            out.append(_pooled(run))
            run.clear()

    for score in scores:
        if score.brain_version is None or score.enough_data:
            close()
            out.append(score)
            continue
        run.append(score)
        if sum(s.with_outcome for s in run) >= MIN_OUTCOMES:
            close()
    close()
    return out


def _pooled(run: list[VersionScore]) -> VersionScore:
    if len(run) == 1:
        return run[0]
    return VersionScore(
        brain_version=run[0].brain_version,
        through=run[-1].through or run[-1].brain_version,
        decisions=sum(s.decisions for s in run),
        with_outcome=sum(s.with_outcome for s in run),
        successes=sum(s.successes for s in run),
        failures=sum(s.failures for s in run),
        gated=sum(s.gated for s in run),
        approved=sum(s.approved for s in run),
        cost_usd=sum((s.cost_usd for s in run), Decimal(0)),
    )
