"""Fixtures: the OpenAI-compatible stub, workers with short leases, the dev stack, lumen.yml on disk."""

from tests.engine.helpers import (  # noqa: F401  (fixtures)
    _dummy_openai_key,
    config_file,
    example_config,
    make_worker,
    open_stack,
    stub,
    stub_settings,
)
