"""The LLM gateway and the offline model. Importing this package does not import litellm."""

from lumen.llm.context_block import ContextBlock, parse_context_block, render_context_block
from lumen.llm.errors import BudgetExceeded, InvalidModelOutput, LLMError, LLMUnavailable
from lumen.llm.gateway import Gateway
from lumen.llm.ledger import Attribution, SpendLedger
from lumen.llm.models import ModelTiers, Tier
from lumen.llm.options import GatewayOptions
from lumen.llm.result import Attempt, CallResult, ToolResult

__all__ = [
    "Attempt",
    "Attribution",
    "BudgetExceeded",
    "CallResult",
    "ContextBlock",
    "Gateway",
    "GatewayOptions",
    "InvalidModelOutput",
    "LLMError",
    "LLMUnavailable",
    "ModelTiers",
    "SpendLedger",
    "Tier",
    "ToolResult",
    "parse_context_block",
    "render_context_block",
]
