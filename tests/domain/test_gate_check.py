"""Reading a decision apart from its label: the signs of a gated move, and the money it names.

The phrasings here are the ways people and models write such moves, not the rule's own words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lumen.domain.config import GatePolicyConfig
from lumen.domain.gate_check import ClassifyDecision, Reading, largest_amount, read_decision
from lumen.domain.gates import check_gate, effective_rules


@pytest.mark.parametrize(
    ("title", "effect", "kind"),
    [
        ("Knock 20% off the Pro plan for nonprofits", "", "pricing_change"),
        ("Give early adopters a lifetime discount code", "", "pricing_change"),
        ("Bring a part-time contractor on for the docs", "", "resource_allocation"),
        ("Buy a year of LinkedIn Sales Navigator seats", "", "resource_allocation"),
        ("Promise Globex a 99.9% uptime SLA in writing", "", "customer_commitment"),
        ("Refund the three accounts hit by the outage", "", "customer_commitment"),
        ("Hand the freelancer our production API keys", "", "security"),
        ("Switch to a third-party billing provider", "", "new_dependency"),
        ("Wind down the legacy desktop app", "", "stage_transition"),
    ],
)
def test_a_gated_kind_of_move_is_read_from_its_words(title: str, effect: str, kind: str) -> None:
    assert kind in read_decision(title, effect).categories


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Book a $2,400 booth at the expo", Decimal("2400")),
        ("Send 499 USD to the agency", Decimal("499")),
        ("Put €1.5k into retargeting", Decimal("1500")),
        ("a 12 dollars per seat add-on, or $30 for the bundle", Decimal("30")),
        ("Sponsor the meetup for USD 750", Decimal("750")),
        ("Grow signups by 40%", None),
    ],
)
def test_the_largest_sum_a_text_names_is_the_amount(text: str, amount: Decimal | None) -> None:
    assert largest_amount(text) == amount


def test_plain_everyday_moves_read_as_nothing_and_the_rules_are_sure() -> None:
    reading = read_decision("Write a how-to post about onboarding emails", "More organic visits")
    assert reading == Reading()


def test_a_hint_alone_leaves_the_rules_unsure() -> None:
    reading = read_decision("Move the Pro tier from 29 to 39 a month", "")
    assert reading.categories == () and not reading.sure


RULES = effective_rules(GatePolicyConfig(), also=["growth_hack"])


def test_the_stricter_of_label_and_reading_wins() -> None:
    booth = read_decision("Book a $2,400 booth at the regional SaaS expo", "")
    check = check_gate(RULES, "marketing", None, booth)
    assert check.rule is not None and check.gated_as == "resource_allocation"
    assert "labelled marketing" in check.why and "$2,400" in check.why


def test_a_smaller_amount_than_the_text_names_does_not_hide_it() -> None:
    reading = read_decision("Commit $1,800 to a podcast ad run", "")
    check = check_gate(RULES, "resource_allocation", Decimal("80"), reading)
    assert check.rule is not None and "$1,800" in check.why


def test_money_without_an_amount_is_gated() -> None:
    reading = read_decision("Bring on a freelance copywriter for the launch pages", "")
    check = check_gate(RULES, "resource_allocation", None, reading)
    assert check.rule is not None and "without saying how much" in check.why


def test_an_unknown_category_is_gated_and_an_ordinary_one_is_not() -> None:
    plain = read_decision("Rewrite the onboarding emails", "")
    assert check_gate(RULES, "growth_hack", None, plain).rule is not None
    assert check_gate(RULES, "marketing", None, plain).rule is None


def test_a_reading_nobody_could_make_goes_to_a_human() -> None:
    unsure = Reading(sure=False)
    check = check_gate(RULES, "marketing", None, unsure)
    assert check.rule is not None and check.rule.category == "marketing" and check.why == "its kind could not be checked"


def test_the_fast_models_reading_counts_only_the_kinds_lumen_knows() -> None:
    reading = ClassifyDecision(kinds=["pricing_change", "totally_fine"], amount_usd=39).reading()
    assert reading.categories == ("pricing_change",) and reading.amount_usd == Decimal("39") and reading.sure
    check = check_gate(RULES, "content", None, reading)
    assert check.gated_as == "pricing_change" and "read by the fast model" in check.why
