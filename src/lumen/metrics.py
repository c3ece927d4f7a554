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
