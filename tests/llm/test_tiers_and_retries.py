from __future__ import annotations

import random

import httpx
import pytest

from lumen.settings import OFFLINE_MODEL, Settings, load_settings
from lumen.errors import ConfigError
from lumen.llm import GatewayOptions, ModelTiers
from lumen.llm.models import parse_model_list
from lumen.llm.retry import backoff_delay, classify, retry_after_seconds


def test_tiers_read_primary_and_fallbacks_from_settings() -> None:
    settings = Settings(LUMEN_MODEL_STRONG="openai/gpt-4o, anthropic/claude-3-5-sonnet,,")
    tiers = ModelTiers.from_settings(settings)
    assert tiers.strong == ("openai/gpt-4o", "anthropic/claude-3-5-sonnet")
    assert tiers.fast == (OFFLINE_MODEL,)
    assert tiers.chain("strong") == tiers.strong
    assert tiers.chain("fast", override="openai/o1,openai/gpt-4o") == ("openai/o1", "openai/gpt-4o")
    assert parse_model_list("a,b,a") == ("a", "b")
    with pytest.raises(ConfigError, match="LUMEN_MODEL_FAST"):
        ModelTiers.from_settings(Settings(LUMEN_MODEL_FAST=" , "))
    with pytest.raises(ValueError):
        tiers.chain("medium")  # type: ignore[arg-type]


def test_options_come_from_the_one_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "LUMEN_MODEL_API_BASE": "http://localhost:4000/v1",
        "LUMEN_LLM_TIMEOUT": "12.5",
        "LUMEN_LLM_CONCURRENCY": "3",
        "LUMEN_LLM_MAX_ATTEMPTS": "4",
        "LUMEN_LLM_MAX_TOKENS": "512",
    }.items():
        monkeypatch.setenv(name, value)
    options = GatewayOptions.from_settings(load_settings())
    assert options.api_base == "http://localhost:4000/v1"
    assert (options.timeout_s, options.max_concurrency_per_model) == (12.5, 3)
    assert (options.max_attempts_per_model, options.max_output_tokens) == (4, 512)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [("LUMEN_LLM_CONCURRENCY", "many", "valid integer"), ("LUMEN_LLM_TIMEOUT", "0", "greater than 0")],
)
def test_a_bad_llm_variable_is_named_with_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable}={value!r}: .*{said}"):
        load_settings()


class _StatusError(Exception):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"status {status}")
        self.status_code = status
        self.litellm_response_headers = httpx.Headers(headers or {})


def test_classify_transient_and_permanent_errors() -> None:
    assert classify(TimeoutError(), 3).reason == "timed out after 3s"
    assert classify(_StatusError(429, {"Retry-After": "7"})).retry_after_s == 7
    assert classify(_StatusError(502)).retryable
    assert classify(_StatusError(408)).retryable
    assert not classify(_StatusError(401)).retryable
    assert not classify(_StatusError(400)).retryable
    assert not classify(ValueError("bug")).retryable


def test_retry_after_in_ms_seconds_and_http_date() -> None:
    assert retry_after_seconds(_StatusError(429, {"retry-after-ms": "1500"})) == 1.5
    assert (
        retry_after_seconds(_StatusError(429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
        == 0
    )
    assert retry_after_seconds(_StatusError(429)) is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, 0.5, 4.0, rng) for n in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(4.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)
