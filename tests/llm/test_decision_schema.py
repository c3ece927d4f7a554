from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from lumen.llm.tools import tool_spec
from lumen.domain.proposals import (
    PROPOSE_DECISIONS,
    ProposedDecision,
    ProposeDecisions,
)


def test_tool_spec_is_openai_style_and_self_contained() -> None:
    tool = tool_spec(ProposeDecisions, PROPOSE_DECISIONS)
    assert tool["type"] == "function"
    function = tool["function"]
    assert function["name"] == PROPOSE_DECISIONS
    assert function["description"]
    params = function["parameters"]
    assert "$ref" not in json.dumps(params) and "$defs" not in params
    assert params["additionalProperties"] is False
    assert params["required"] == ["decisions"]
    item = params["properties"]["decisions"]["items"]
    assert item["additionalProperties"] is False
    assert set(item["required"]) == {"category", "title"}
    assert {"type": "number", "minimum": 0} in item["properties"]["amount_usd"]["anyOf"]


def test_valid_decision_and_amount_serialized_as_number() -> None:
    value = ProposeDecisions.model_validate(
        {
            "decisions": [
                {"category": "pricing_change", "title": "Raise prices 10%", "amount_usd": 120.5}
            ],
            "summary": "one change",
        }
    )
    assert value.decisions[0].amount_usd == Decimal("120.5")
    assert json.loads(value.model_dump_json())["decisions"][0]["amount_usd"] == 120.5


@pytest.mark.parametrize(
    "bad",
    [
        {"category": "Pricing Change", "title": "Raise prices"},
        {"category": "pricing", "title": "no"},
        {"category": "pricing", "title": "x" * 151},
        {"category": "pricing", "title": "Raise prices", "amount_usd": -1},
        {"category": "pricing", "title": "Raise prices", "rationale": "x" * 2001},
        {"category": "pricing", "title": "Raise prices", "expected_effect": "x" * 501},
        {"category": "pricing", "title": "Raise prices", "owner": "me"},
    ],
)
def test_invalid_decisions_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        ProposedDecision.model_validate(bad)


def test_at_most_five_decisions_and_no_extra_keys() -> None:
    one = {"category": "ops", "title": "Do a thing"}
    with pytest.raises(ValidationError):
        ProposeDecisions.model_validate({"decisions": [one] * 6})
    with pytest.raises(ValidationError):
        ProposeDecisions.model_validate({"decisions": [], "extra": 1})
    with pytest.raises(ValidationError):
        ProposeDecisions.model_validate({"summary": "no decisions key"})
