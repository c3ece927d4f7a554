from decimal import Decimal

from lumen.config import LumenConfig
from lumen.domain.gates import effective_rules


def test_venture_overrides_win_field_by_field(example_config: LumenConfig) -> None:
    brightbox = example_config.venture("brightbox")
    rules = effective_rules(example_config.gates, brightbox.gates)
    assert rules["pricing_change"].approvers.users == ("U0ALICE",)
    # Fields the override does not set come from the workspace policy.
    assert rules["pricing_change"].expiry_hours == 72
    assert rules["customer_commitment"].quorum == 2


def test_resource_allocation_needs_a_human_only_above_the_threshold(
    example_config: LumenConfig,
) -> None:
    rule = effective_rules(example_config.gates)["resource_allocation"]
    assert not rule.applies_to(Decimal("300"))
    assert rule.applies_to(Decimal("4000"))
    assert not effective_rules(example_config.gates)["new_dependency"].applies_to(None)
