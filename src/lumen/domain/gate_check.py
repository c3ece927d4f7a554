"""Reading a proposed decision independently of the label its proposer gave it.

The proposing model picks the category and the amount, so a move that spends money can be
labelled `marketing`, or carry no amount. This module reads what the decision says it does
(its title and expected effect: the lines that state the move, not the rationale, which
often cites prices and budgets it does not change) for the signs of a gated kind of move and
for money. A rule that finds a clear sign says so; one that finds only a hint says it cannot
tell, and the caller asks the fast model. Pure rules: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, Field

# Signs of each standard gated category, as words people and models write them.
_SIGNS: dict[str, tuple[str, ...]] = {
    "pricing_change": (
        r"pric(?:e|es|ing)", r"discount\w*", r"(?:raise|cut|lower|increase|decrease|double|halve)s? (?:the )?(?:price|fee|rate)s?",
        r"(?:annual|monthly) plans?", r"free tier", r"\d+\s?%\s?off\b", r"half[- ]price", r"per[- ]seat", r"subscription (?:fee|cost)", r"coupon\w*", r"promo code",
    ),
    "stage_transition": (
        r"general availability", r"\bGA\b", r"(?:move|go|graduate|advance)s? (?:in)?to (?:beta|ga|growth|scale|production)",
        r"sunset\w*", r"shut (?:it )?down", r"wind down", r"\bpivot\w*",
    ),
    "customer_commitment": (
        r"\bSLA\b", r"contract\w*", r"guarantee\w*", r"commit\w* to (?:a |the )?(?:customer|client)", r"refund\w*",
        r"promise\w* (?:the |a )?(?:customer|client)", r"exclusiv\w*", r"sign(?:s|ed|ing)? (?:a |an |the )?(?:deal|agreement|letter of intent|LOI)",
    ),
    "resource_allocation": (
        r"\bspend\w*", r"\bwire\w*", r"\bpay(?:s|ing|ment)?\b", r"\btransfer\w*", r"\bbudget\w*", r"\bhir(?:e|es|ing)\b",
        r"\bpurchas\w*", r"\bbuy\w*", r"\binvest\w*", r"\bfund\w*", r"\bad spend", r"\bsponsor\w*", r"\bcontractor\w*",
        r"\bpaid (?:ads?|campaign|search|social)",
    ),
    "new_dependency": (
        r"\bvendor\w*", r"(?:adopt|integrate|switch to|migrate to|sign up for|subscribe to)\w* ", r"third[- ]party",
        r"\bsupplier\w*", r"\boutsourc\w*",
    ),
    "security": (
        r"credential\w*", r"password\w*", r"api keys?", r"secret\w*", r"\baccess to\b", r"permission\w*", r"\badmin\b",
        r"\btoken\w*", r"\bpii\b", r"personal data", r"encrypt\w*", r"\bfirewall\w*", r"\bsso\b", r"\b2fa\b", r"\bmfa\b",
    ),
}
_SIGN_PATTERNS = {category: re.compile("|".join(signs), re.IGNORECASE) for category, signs in _SIGNS.items()}

# Categories that spend money by nature: without an amount, nobody can say they are small.
MONEY_CATEGORIES = frozenset({"resource_allocation"})

# Money written out: "$1,200", "USD 499", "499 dollars", "€2k", "1.5m USD".
_MONEY = re.compile(
    r"(?:[$€£]|\b(?:usd|eur|gbp)\s?)\s?(?P<a>\d[\d,]*(?:\.\d+)?)\s?(?P<am>[km]\b|thousand|million)?"
    r"|\b(?P<b>\d[\d,]*(?:\.\d+)?)\s?(?P<bm>[km]\b|thousand|million)?\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks)\b",
    re.IGNORECASE,
)
_SCALE = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}
# Hints too weak to gate on alone, strong enough that a rule should not wave the move through.
_HINTS = re.compile(
    r"\b(?:cost\w*|fee\w*|plans?|deal\w*|commit\w*|allocat\w*|invoice\w*|tiers?|upgrad\w*|renew\w*|subscri\w*|\d{3,})\b"
    r"|(?:\ba|\bper|/)\s?(?:month|mo|year|yr|seat|user)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reading:
    """What a decision's own words say it does, read by rules (or by the fast model)."""

    categories: tuple[str, ...] = ()  # gated kinds of move it shows clear signs of
    amount_usd: Decimal | None = None  # the largest sum of money it names
    sure: bool = True  # False: only hints; a rule cannot tell, so ask the fast model
    by: str = "rules"

    @property
    def why(self) -> str:
        return f"it names ${self.amount_usd:,.0f}" if self.amount_usd is not None else ""


def read_decision(title: str, expected_effect: str = "") -> Reading:
    """The gated kinds of move and the money a decision's title and expected effect show."""
    text = f"{title}\n{expected_effect}"
    categories = tuple(c for c, pattern in _SIGN_PATTERNS.items() if pattern.search(text))
    amount = largest_amount(text)
    if amount is not None and not {"resource_allocation", "pricing_change"} & set(categories):
        categories += ("resource_allocation",)  # a sum of money that is not a price is money spent
    sure = bool(categories) or amount is not None or not _HINTS.search(text)
    return Reading(categories=categories, amount_usd=amount, sure=sure)


def largest_amount(text: str) -> Decimal | None:
    """The largest sum of money written in `text`, or None if it names none."""
    found: list[Decimal] = []
    for match in _MONEY.finditer(text):
        digits = (match.group("a") or match.group("b") or "").replace(",", "")
        scale = (match.group("am") or match.group("bm") or "").lower()
        try:
            value = Decimal(digits) * _SCALE.get(scale, 1)
        except InvalidOperation:
            continue
        found.append(value)
    return max(found) if found else None


# --- the fast model's reading, where the rules cannot tell ---------------------------------

CLASSIFY_DECISION = "classify_decision"
GATED_KINDS = tuple(_SIGNS)


class ClassifyDecision(BaseModel):
    """Say which kinds of move this decision is, from its own words, and the most money it commits."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = Field(
        default_factory=list, max_length=len(GATED_KINDS),
        description="Which of: " + ", ".join(GATED_KINDS) + ". Empty if none.",
    )
    amount_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False, description="The most money it commits, if any.")

    def reading(self) -> Reading:
        amount = Decimal(str(self.amount_usd)) if self.amount_usd is not None else None
        kinds = tuple(k for k in GATED_KINDS if k in self.kinds)  # a kind it made up counts for nothing
        return Reading(categories=kinds, amount_usd=amount, sure=True, by="the fast model")
