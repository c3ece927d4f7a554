"""Synthesis input grows with the week, not with the history: a year of 50 decisions a week,
synthesised every week in order; the prompts of weeks 1, 13 and 52 compared.
`benchmarks/synthesis_scaling.py` measures the same thing and prints the figures."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from lumen.config import LumenConfig
from lumen.settings import Settings
from lumen.db.models import Step
from lumen.domain.brain import CITATIONS_KEPT, SECTIONS
from lumen.llm import Gateway
from lumen.runtime import prepare
from tests.brain.history import synthesis_spend, synthesise, week_end, write_history
from tests.support.databases import sqlite_url

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
TARGET = 1.3


@pytest.mark.slow
async def test_prompt_stays_flat_over_a_year(tmp_path: Path, example_config: LumenConfig) -> None:
    """SQLite only: the prompt is built the same way on both databases, and this one takes seconds."""
    settings = Settings(LUMEN_DATABASE_URL=sqlite_url(tmp_path), LUMEN_CONFIG=str(tmp_path / "lumen.yml"))
    container = await prepare(settings, example_config)
    try:
        gateway = Gateway.from_settings(settings, container.db)
        history = await write_history(container.db, "acme", 52, 50, START)
        tokens: dict[int, int] = {}
        for week in range(1, 53):
            run_id = await synthesise(container, gateway, history.venture_id, week_end(START, week))
            if week in (1, 13, 52):
                spend = await synthesis_spend(container.db, run_id)
                assert spend is not None and spend.purpose == "synthesize"
                tokens[week] = spend.prompt_tokens
                async with container.db.sessions() as session:
                    inputs = await session.scalar(select(Step).where(Step.run_id == run_id, Step.name == "inputs"))
                assert inputs is not None and len(inputs.output["facts"]) == 50  # the week, not the year
                previous = inputs.output["previous"]
                assert sum(len(previous[name]) for name in SECTIONS) <= 5 * len(SECTIONS) + 5
                assert all(len(s["decision_ids"]) <= CITATIONS_KEPT for name in SECTIONS for s in previous[name])
    finally:
        await container.db.dispose()

    # Flat with the history: a year in, the prompt is what it was after a quarter.
    assert tokens[52] <= 1.05 * tokens[13], tokens
    # And what week 1 lacks, the brain, costs less than 30% of a 50-decision week.
    assert tokens[52] <= TARGET * tokens[1], tokens
