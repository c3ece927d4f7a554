"""The verifier's verdict on a proposal, and what a failed check does to the gate.

An agent with `verify:` in lumen.yml has each proposal checked before it propagates: against
the brain's failures, what humans turned down, the venture's goals and the agent's budget.
A failed check sends the proposal back once with the objection; a revision that fails again,
or a check that could not be made, goes to a human, the objection on the approval card. A
verdict names the decisions it objects to, so the others of the proposal go ahead as usual.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from lumen.domain.gates import EffectiveRule, GateCheck

VERIFY_DECISIONS = "verify_decisions"


class VerifyVerdict(BaseModel):
    """Are these proposed decisions consistent with what the venture knows? Say why not."""

    model_config = ConfigDict(extra="forbid")

    consistent: bool = Field(description="True when every decision fits the failures, rejections, goals and budget.")
    objection: str = Field(
        default="", max_length=1000, description="When not consistent: what is wrong, naming the decision."
    )
    objected: list[int] = Field(
        default_factory=list,
        max_length=50,
        description="When not consistent: the numbers of the decisions the objection is about, as listed; empty means all.",
    )


def objected_ordinals(numbers: list[int], count: int) -> frozenset[int] | None:
    """The 0-based decisions a verdict names (1-based, as listed to it); None (all of them)
    when it names none it could mean: a verdict that cannot say which sends each to a human."""
    named = frozenset(n - 1 for n in numbers if 1 <= n <= count)
    return named or None


def gated_by_verifier(rules: dict[str, EffectiveRule], category: str, objection: str, check: GateCheck) -> GateCheck:
    """The gate of a decision the verifier would not pass: a human decides, and sees why.

    A decision its own rules gate already keeps that rule (and its approvers); the card says
    what the verifier objected to either way."""
    why = f"the verifier objected: {objection or 'no reason given'}"
    if check.rule is not None:
        return GateCheck(check.rule, check.gated_as, f"{check.why}; {why}" if check.why else why)
    rule = rules.get(category) or next(iter(rules.values()))
    return GateCheck(replace(rule, category=category, gated=True, above_usd=None), category, why)
