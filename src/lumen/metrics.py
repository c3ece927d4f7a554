"""Prometheus metrics. Module-level: one set per process, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SLACK_REQUESTS = Counter(
    "lumen_slack_requests_total", "Requests received from Slack", ["kind", "outcome"]
)
SLACK_EVENTS_DEDUPLICATED = Counter(
    "lumen_slack_events_deduplicated_total", "Events API retries dropped as already seen"
)
HTTP_LATENCY = Histogram(
    "lumen_http_request_seconds",
    "Time from request to response, server side",
    ["path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
COMMANDS = Counter("lumen_slash_commands_total", "Slash subcommands handled", ["subcommand"])

# Model calls by who they were for: a venture's slug and an agent's role ("" when none),
# the litellm model and the purpose (decide, synthesis, ask, …). Bounded by lumen.yml.
LLM_LABELS = ["venture", "agent", "model", "purpose"]
LLM_SPEND = Counter("lumen_llm_spend_usd_total", "What model calls cost, in USD, as settled", LLM_LABELS)
LLM_TOKENS = Counter("lumen_llm_tokens_total", "Tokens billed by model calls", [*LLM_LABELS, "kind"])
LLM_CALLS = Counter(
    "lumen_llm_calls_total", "Model calls: answered, failed, or stopped by a budget before the model", [*LLM_LABELS, "outcome"]
)
