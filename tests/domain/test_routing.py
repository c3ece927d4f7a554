"""The routing rules: what goes to the cheap tier, what to the dear one, what they cannot tell."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from lumen.config import parse_config
from lumen.domain.routing import (
    DecisionTask,
    QuestionTask,
    RoutingPolicy,
    SynthesisTask,
    low_confidence,
    too_dear_to_try,
    route_decision,
    route_question,
    route_synthesis,
)

AUTO = RoutingPolicy(mode="auto")


def decision(**changes: int | bool) -> DecisionTask:
    base = dict(open_moves=3, weighty_moves=0, has_brain=True, since_brain=2, pending_approvals=0, recent_rejections=0)
    return DecisionTask(**{**base, **changes})  # type: ignore[arg-type]


def test_an_everyday_decision_under_a_brain_is_cheap_work() -> None:
    assert route_decision(decision(), AUTO).verdict == "fast"


@pytest.mark.parametrize(
    "changes",
    [{"weighty_moves": 1}, {"recent_rejections": 2}],
    ids=["a move a human must approve is open", "humans turned something down"],
)
def test_money_gates_and_pushback_need_the_strong_model(changes: dict[str, int]) -> None:
    route = route_decision(decision(**changes), AUTO)
    assert route.verdict == "strong" and route.why


def test_a_busy_stretch_or_no_brain_is_left_to_the_routing_model() -> None:
    assert route_decision(decision(has_brain=False), AUTO).verdict == "unsure"
    assert route_decision(decision(since_brain=30), AUTO).verdict == "unsure"
    assert route_decision(decision(pending_approvals=1), AUTO).verdict == "unsure"


def test_weeks_are_quiet_busy_or_in_between() -> None:
    assert route_synthesis(SynthesisTask(has_brain=True, decisions=3, failures=0, outcomes=2), AUTO).verdict == "fast"
    assert route_synthesis(SynthesisTask(has_brain=True, decisions=3, failures=1, outcomes=2), AUTO).verdict == "unsure"
    assert route_synthesis(SynthesisTask(has_brain=True, decisions=40, failures=0, outcomes=9), AUTO).verdict == "strong"
    # The very first brain sets the tone for every later one.
    assert route_synthesis(SynthesisTask(has_brain=False, decisions=1, failures=0, outcomes=0), AUTO).verdict == "strong"


def test_questions_by_length_and_what_the_rules_read() -> None:
    assert route_question(QuestionTask(words=7, ventures_named=1, rules_found=True), AUTO).verdict == "fast"
    assert route_question(QuestionTask(words=7, ventures_named=0, rules_found=False), AUTO).verdict == "unsure"
    assert route_question(QuestionTask(words=90, ventures_named=1, rules_found=True), AUTO).verdict == "strong"


def test_confidence_below_the_floor_is_a_reason_and_silence_is_not() -> None:
    policy = RoutingPolicy(mode="auto", min_confidence=0.8)
    assert "0.50" in (low_confidence(0.5, policy) or "")
    assert low_confidence(0.8, policy) is None and low_confidence(None, policy) is None


def test_lumen_yml_takes_a_policy_per_agent_and_for_the_workspace() -> None:
    text = """
version: 1
workspace: {routing: {mode: auto, quiet_week: 3}}
gates: {approvers: [U0ALICE]}
ventures:
  - slug: acme
    name: Acme
    channel: venture-acme
    agents:
      - {role: ceo, schedule: "0 9 * * 1", routing: {mode: fixed}}
      - {role: cmo, schedule: "0 9 * * 1"}
"""
    config = parse_config(text, source="lumen.yml")
    assert config.workspace.routing.auto and config.workspace.routing.quiet_week == 3
    ceo, cmo = config.ventures[0].agents
    assert ceo.routing is not None and not ceo.routing.auto
    assert cmo.routing is None  # the workspace's applies
    assert not parse_config("version: 1\n", source="lumen.yml").workspace.routing.auto  # fixed unless asked


def test_a_routing_mode_nobody_defined_is_refused() -> None:
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"mode": "cheapest"})
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"mode": "auto", "min_confidence": 1.5})


def test_a_fast_try_must_cost_well_under_the_strong_call_it_may_be_followed_by() -> None:
    # A fiftieth of the price: worth trying; nearly the same price: an escalation loses money.
    assert too_dear_to_try(Decimal("0.0002"), Decimal("0.01")) is None
    assert too_dear_to_try(Decimal("0.005"), Decimal("0.01")) is None  # exactly half still pays
    why = too_dear_to_try(Decimal("0.008"), Decimal("0.01"))
    assert why is not None and "80%" in why
    # A tier with no known price (0) cannot be weighed: the rules decide, as before.
    assert too_dear_to_try(Decimal(0), Decimal("0.01")) is None
    assert too_dear_to_try(Decimal("0.01"), Decimal(0)) is None
