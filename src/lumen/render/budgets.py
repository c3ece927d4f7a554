"""Budget alerts posted to a channel: a warning at 80 % of an envelope, a stop at 100 %."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lumen.render.common import context, escape, section, usd
from lumen.render.limits import check_blocks


@dataclass(frozen=True)
class EnvelopeView:
    """An envelope as people name it: `acme/ceo`, `acme`, or `the platform`."""

    owner: str  # "acme/ceo", "acme", "the platform"
    scope: str  # agent | venture | platform
    period: str  # month | day
    period_label: str  # 2026-03 or 2026-03-15
    limit_usd: Decimal
    setting: str  # where lumen.yml declares it

    @property
    def name(self) -> str:
        return f"{'monthly' if self.period == 'month' else 'daily'} budget of {self.owner}"


SIMULATED_ALERT = "Simulated prices: the offline model's own price table (lumen dev); no money is spent."


def budget_warning_payload(envelope: EnvelopeView, spent_usd: Decimal, *, simulated: bool = False) -> dict[str, Any]:
    share = spent_usd / envelope.limit_usd if envelope.limit_usd else Decimal(1)
    text = f"⚠️ {envelope.name}: {share:.0%} used ({usd(spent_usd)} of {usd(envelope.limit_usd)}, {envelope.period_label} UTC)."
    if simulated:
        text += " (simulated prices)"
    return {
        "text": text,
        "blocks": check_blocks(
            [
                section(f"*{escape(text)}*"),
                context(
                    "Spend here counts calls settled and reserved. At 100 % the calls it covers stop "
                    f"before the model is called. Raise `{escape(envelope.setting)}` in lumen.yml if this is expected.",
                    *([SIMULATED_ALERT] if simulated else []),
                ),
            ]
        ),
    }


def budget_stop_payload(
    envelope: EnvelopeView, spent_usd: Decimal, estimate_usd: Decimal, stopped: str, *, simulated: bool = False
) -> dict[str, Any]:
    text = f"🛑 Stopped: the {envelope.name} ({usd(envelope.limit_usd)}, {envelope.period_label} UTC) is spent."
    if simulated:
        text += " (simulated prices)"
    detail = (
        f"{usd(spent_usd)} spent or reserved + {usd(estimate_usd)} for the next call would pass it.\n"
        f"*Stopped:* {escape(stopped)}. The model was not called."
    )
    return {
        "text": text,
        "blocks": check_blocks(
            [
                section(f"*{escape(text)}*\n{detail}"),
                context(
                    f"Everything this envelope covers stays stopped until next {envelope.period} (UTC), "
                    f"or raise `{escape(envelope.setting)}` in lumen.yml.",
                    *([SIMULATED_ALERT] if simulated else []),
                ),
            ]
        ),
    }
