"""Fixtures: the OpenAI-compatible stub, workers with short leases, the dev stack, lumen.yml on disk."""

from tests.engine.helpers import (  # noqa: F401  (fixtures)
    config_file,
    example_config,
    make_worker,
    open_stack,
    stub_settings,
)
