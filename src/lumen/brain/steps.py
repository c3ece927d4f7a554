"""What the synthesis runs' journal steps hold, as pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lumen.domain.brain import DecisionFact

Sections = dict[str, list[dict[str, Any]]]


class SynthesisInputs(BaseModel):
    """Brain N and the decisions touched since it was built: all a synthesis reads."""

    previous_version: int
    previous: Sections
    since: str | None
    until: str
    week: str
    facts: list[DecisionFact]


class BrainWritten(BaseModel):
    """Brain N+1 as stored: its cleaned sections, the diff from N, and what it was built from."""

    version: int
    sections: Sections
    summary: str
    diff: dict[str, Any]
    diff_lines: list[str]
    built_from: list[int]
    week: str
    since: str | None
    until: str
    model: str


class PlatformInputs(BaseModel):
    brains: dict[str, Sections]
    previous_version: int
    week: str


class InsightsWritten(BaseModel):
    version: int
    insights: list[dict[str, Any]]
    summary: str
    week: str
