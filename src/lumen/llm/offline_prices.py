"""The offline model's simulated price table: what `lumen dev` charges so its costs show.

Not real money: the offline model runs in this process and costs nothing. With
LUMEN_OFFLINE_SIMULATED_PRICES (on by default in `lumen dev`), its calls are priced as a
mid-range hosted model would price them, so spend, budgets, forecasts and their warnings can
be seen working in the demo. Reports mark spend on the offline model as simulated.
"""

from __future__ import annotations

from decimal import Decimal

# Per token: $2.50 per million prompt tokens, $10 per million completion tokens.
SIMULATED_INPUT_USD = Decimal("0.0000025")
SIMULATED_OUTPUT_USD = Decimal("0.00001")
SIMULATED_NOTE = "simulated price table of the offline model (no money is spent)"


def simulated_cost(prompt_tokens: int, completion_tokens: int) -> Decimal:
    return SIMULATED_INPUT_USD * prompt_tokens + SIMULATED_OUTPUT_USD * completion_tokens
