"""The flywheel chart: a real PNG of the success rate per brain version over spend, whose alt
text carries every number it draws."""

from __future__ import annotations

import io
from decimal import Decimal

from PIL import Image

from lumen.brain.charts import chart_points
from lumen.domain.attribution import VersionScore
from lumen.render.charts import flywheel_alt_text, flywheel_chart


def _score(version: int | None, outcomes: int, successes: int, cost: str = "0.50") -> VersionScore:
    return VersionScore(
        brain_version=version, decisions=outcomes + 1, with_outcome=outcomes, successes=successes,
        failures=outcomes - successes, gated=0, approved=0, cost_usd=Decimal(cost),
    )


def test_the_chart_is_a_png_people_can_read() -> None:
    points = chart_points([_score(None, 6, 3), *(_score(v, 6, 3 + v % 3) for v in range(1, 30))])
    png = flywheel_chart("Acme Analytics", points)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (640, 300)
    # Drawn, not blank: the rate line and the bars put many colours on it.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 20


def test_thin_versions_are_pooled_and_the_alt_text_says_every_number() -> None:
    points = chart_points([_score(None, 2, 1), _score(1, 2, 2), _score(2, 3, 1), _score(3, 5, 4, "1.25"), _score(4, 1, 0)])
    assert [p.label for p in points] == ["none", "v1–2", "v3", "v4"]
    alt = flywheel_alt_text("Acme Analytics", points)
    assert alt == (
        "Acme Analytics: success rate and spend per brain version: none 2 outcomes, too few, $0.50; "
        "v1–2 60% of 5, $1.00; v3 80% of 5, $1.25; v4 1 outcomes, too few, $0.50"
    )
    flywheel_chart("Acme Analytics", points)  # a chart with gaps in its line still draws


def test_a_venture_with_no_scores_yet_still_gets_a_chart() -> None:
    assert flywheel_chart("Acme Analytics", []).startswith(b"\x89PNG")
