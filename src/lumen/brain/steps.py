"""What the synthesis runs' journal steps hold, as pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lumen.domain.brain import DecisionFact

Sections = dict[str, list[dict[str, Any]]]


class SynthesisInputs(BaseModel):
    """Brain N and the decisions touched since it was built: all a synthesis reads.

    `followed` closes the loop: per statement of brain N, the decisions made under brain N
    that it was about. `draft` is brain N+1 as the records alone make it (every number and
    citation computed, every change explained); a model writes the words on top of it.
    """

    previous_version: int
    previous: Sections
    since: str | None
    until: str
    week: str
    facts: list[DecisionFact]
    followed: dict[str, list[int]] = {}
    draft: Sections = {}


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
    # For the weekly summary: the week's counts, and decision quality per brain version.
    stats: dict[str, Any] = {}
    scores: list[dict[str, Any]] = []
    chart_alt: str = ""


class VentureBrainInput(BaseModel):
    slug: str
    name: str
    private: bool
    sections: Sections


class PlatformInputs(BaseModel):
    ventures: list[VentureBrainInput]
    previous_version: int
    week: str
    until: str
    draft: list[dict[str, Any]] = []


class InsightsWritten(BaseModel):
    version: int
    insights: list[dict[str, Any]]
    summary: str
    week: str
    until: str
