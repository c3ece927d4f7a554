"""The spend chart: a real PNG of this month's spend against its budget with the forecast and
its band, built from spend rows by the costs service's pure series builder; its alt text says
the numbers, and says when the prices were simulated."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from PIL import Image

from lumen.costs.service import spend_series
from lumen.domain.forecast import forecast_path, project_month
from lumen.render.charts import spend_alt_text, spend_chart

MID_MONTH = datetime(2026, 3, 18, 15, 0, tzinfo=timezone.utc)


def _daily(days: int, each: str = "1.5", until: date = MID_MONTH.date()) -> dict[date, Decimal]:
    return {until - timedelta(days=k): Decimal(each) + Decimal(k % 4) * Decimal("0.8") for k in range(days)}


def _pixels_like(png: bytes, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(count for count, rgb in image.getcolors(maxcolors=1 << 24) or [] if all(abs(a - b) <= tolerance for a, b in zip(rgb, colour)))


def test_the_chart_is_a_png_of_the_flywheel_charts_size_with_spend_budget_and_band() -> None:
    series = spend_series("acme", _daily(30), MID_MONTH, Decimal(40), simulated=True)
    png = spend_chart(series)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (640, 300)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 20  # drawn, not blank
    assert _pixels_like(png, (0xE0, 0x1E, 0x5A), 40) > 100  # the budget line
    assert _pixels_like(png, (0xD6, 0xE6, 0xF5), 4) > 500  # the forecast's band


def test_the_series_runs_from_the_first_to_now_then_forecasts_to_the_months_end() -> None:
    daily = _daily(30)
    series = spend_series("acme", daily, MID_MONTH, Decimal(40))
    assert series.month == "March 2026" and series.days_in_month == 31
    assert series.spent[0] == (1.0, Decimal(0))
    march = sum(v for d, v in daily.items() if d.month == 3)
    assert series.spent[-1] == (18 + 15 / 24, march)  # today at 15:00
    # Cumulative: never goes down; the forecast starts where the spend stands and ends at
    # midnight after the 31st, where project_month puts the month end.
    values = [v for _, v in series.spent]
    assert values == sorted(values)
    assert series.forecast[0][0] == series.spent[-1][0] and series.forecast[0][1] == march
    assert series.forecast[-1][0] == 32.0
    projection = project_month(daily, MID_MONTH, Decimal(40))
    assert series.forecast[-1][1:] == (projection.expected_usd, projection.low_usd, projection.high_usd)
    # The band widens the further ahead it reaches.
    widths = [high - low for _, _, low, high in series.forecast]
    assert widths == sorted(widths) and widths[-1] > widths[1] > 0


def test_forecast_path_ends_where_the_projection_does_on_a_days_first_hours() -> None:
    now = datetime(2026, 4, 1, 0, 30, tzinfo=timezone.utc)
    daily = {date(2026, 3, 31) - timedelta(days=k): Decimal(2) for k in range(5)}
    path = forecast_path(daily, now)
    end = project_month(daily, now)
    assert path[0].expected_usd == Decimal(0) and path[-1].expected_usd == end.expected_usd
    assert path[-1].at == datetime(2026, 5, 1, tzinfo=timezone.utc)


def test_the_alt_text_says_spent_budget_forecast_and_simulated() -> None:
    series = spend_series("acme/cmo", {MID_MONTH.date(): Decimal("0.03")}, MID_MONTH, Decimal("0.04"), simulated=True)
    alt = spend_alt_text(series)
    assert alt.startswith("acme/cmo: $0.03 spent in March 2026 (UTC) against a budget of $0.04; expected by month end $")
    assert "80 % range" in alt and alt.endswith("Simulated prices: no money was spent.")
    spend_chart(series)  # one day of history (a rough forecast) still draws


def test_a_month_with_no_spend_and_no_budget_still_gets_a_chart() -> None:
    series = spend_series("brightbox", {}, datetime(2026, 2, 1, 0, 0, tzinfo=timezone.utc), None)
    assert spend_alt_text(series) == "brightbox: $0.00 spent in February 2026 (UTC) (no budget); expected by month end $0.00 (80 % range $0.00–$0.00)."
    assert spend_chart(series).startswith(b"\x89PNG")
