"""The gate policy: which decisions need a human, and who that human is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from lumen.domain.gate_check import MONEY_CATEGORIES, Reading

if TYPE_CHECKING:
    from lumen.domain.config import Approvers, GatePolicyConfig, GateRule

# Spends below this need no human unless the policy says otherwise.
DEFAULT_RESOURCE_THRESHOLD_USD = Decimal("500")
STANDARD_CATEGORIES = (
    "pricing_change",
    "stage_transition",
    "customer_commitment",
    "resource_allocation",
    "new_dependency",
    "security",
)
# Everyday kinds of move that need no human unless lumen.yml says so. A category that is in
# neither list is one nobody has judged: it is gated, so a made-up label cannot dodge a gate.
ORDINARY_CATEGORIES = (
    "marketing",
    "content",
    "research",
    "product",
    "engineering",
    "design",
    "operations",
    "ops",
    "sales",
    "support",
    "customer_success",
    "community",
    "analytics",
    "growth",
    "partnership",
    "partnerships",
    "experiment",
)


@dataclass(frozen=True)
class EffectiveRule:
    category: str
    gated: bool
    above_usd: Decimal | None
    approvers: Approvers
    quorum: int
    expiry_hours: float
    reminder_hours: float
    on_expiry: Literal["reject", "escalate"]
    backup_approvers: Approvers

    def applies_to(self, amount_usd: Decimal | None) -> bool:
        """Does a decision of this category and amount need a human?"""
        if not self.gated:
            return False
        if self.above_usd is None:
            return True
        return amount_usd is not None and amount_usd > self.above_usd

    def frozen(self) -> dict[str, Any]:
        """Who may approve and the rule's timing, as stored on an approval when it opens:
        a later change to lumen.yml does not move a gate that is already waiting."""
        return {
            "on_expiry": self.on_expiry,
            "expiry_hours": self.expiry_hours,
            "reminder_hours": self.reminder_hours,
            "users": list(self.approvers.users),
            "usergroups": list(self.approvers.usergroups),
            "channels": list(self.approvers.channels),
            "backup_users": list(self.backup_approvers.users),
            "backup_usergroups": list(self.backup_approvers.usergroups),
            "backup_channels": list(self.backup_approvers.channels),
        }


def effective_rules(
    policy: GatePolicyConfig, overrides: dict[str, GateRule] | None = None, also: Iterable[str] = ()
) -> dict[str, EffectiveRule]:
    """Merge workspace defaults, category rules and a venture's overrides, field by field.
    `also`: categories to have a rule for (the ones proposed): an ordinary one is not gated,
    any other nobody declared is."""
    overrides = overrides or {}
    categories = list(STANDARD_CATEGORIES) + list(ORDINARY_CATEGORIES)
    categories += [c for c in policy.categories if c not in categories]
    categories += [c for c in overrides if c not in categories]
    categories += [c for c in also if c not in categories]
    rules: dict[str, EffectiveRule] = {}
    for category in categories:
        layers = [r for r in (policy.categories.get(category), overrides.get(category)) if r]

        def pick(field: str, default):  # the last layer that sets a field wins
            for layer in reversed(layers):
                value = getattr(layer, field)
                if value is not None:
                    return value
            return default

        default_threshold = (
            DEFAULT_RESOURCE_THRESHOLD_USD if category == "resource_allocation" else None
        )
        rules[category] = EffectiveRule(
            category=category,
            gated=pick("gated", category not in ORDINARY_CATEGORIES),
            above_usd=pick("above_usd", default_threshold),
            approvers=pick("approvers", policy.approvers),
            quorum=pick("quorum", policy.quorum),
            expiry_hours=pick("expiry_hours", policy.expiry_hours),
            reminder_hours=pick("reminder_hours", policy.reminder_hours),
            on_expiry=pick("on_expiry", policy.on_expiry),
            backup_approvers=pick("backup_approvers", policy.backup_approvers),
        )
    return rules


def rule_for(
    rules: dict[str, EffectiveRule], category: str
) -> EffectiveRule | None:
    """The rule for a category, gated or not; None for one nobody has a rule for."""
    return rules.get(category)


def gate_for(rules: dict[str, EffectiveRule], category: str, amount_usd: Decimal | None) -> EffectiveRule | None:
    """The rule that sends this decision to a human, or None when it goes ahead: the gate rule."""
    rule = rules.get(category)
    return rule if rule is not None and rule.applies_to(amount_usd) else None


@dataclass(frozen=True)
class GateCheck:
    """The gate a decision meets, judged from both its label and its own words."""

    rule: EffectiveRule | None  # None: it goes ahead
    gated_as: str | None = None  # the category whose rule gates it
    why: str = ""  # set when the label alone would not have gated it


def check_gate(
    rules: dict[str, EffectiveRule], category: str, amount_usd: Decimal | None, reading: Reading
) -> GateCheck:
    """The stricter of the proposer's label and an independent reading of the decision wins.

    A money category with no amount is gated (nobody can say it is small), and the amount
    weighed is the larger of the one proposed and the largest the text names."""
    named = [a for a in (amount_usd, reading.amount_usd) if a is not None]
    amount = max(named) if named else None
    more = f", and {reading.why}" if reading.why else ""
    own = rules.get(category)
    if own is not None and own.applies_to(amount):
        why = "" if own.applies_to(amount_usd) else f"its text names ${amount:,.0f}, more than it proposed"
        return GateCheck(own, category, why)
    if own is not None and own.gated and category in MONEY_CATEGORIES and amount is None:
        return GateCheck(own, category, "it spends money without saying how much")
    for read in reading.categories:
        rule = rules.get(read)
        if read == category or rule is None or not rule.gated:
            continue
        if rule.applies_to(amount) or (read in MONEY_CATEGORIES and amount is None):
            return GateCheck(rule, read, f"labelled {category}, but read by {reading.by} as {read}{more}")
    if not reading.sure:  # neither rules nor the fast model could say: a human does
        rule = rules.get(category) or next(iter(rules.values()))
        fallback = replace(rule, category=category, gated=True, above_usd=None)
        return GateCheck(fallback, category, "its kind could not be checked")
    return GateCheck(None)
