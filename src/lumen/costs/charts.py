"""Charts of spend against budget in Slack: drawn here, uploaded by the outbox (as the brain's
charts are), shown by file id in App Home and in `/lumen costs`.

A chart is drawn at most once an hour per scope: its upload's outbox key names the scope and
the hour, so every viewer within the hour (and every replica) shares one file, and the
image says what hour it is of. The numbers beside it are always live.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lumen.costs import repository
from lumen.db.models import OutboxStatus
from lumen.engine import outbox
from lumen.engine.slack_calls import FILE_UPLOAD
from lumen.render.charts import SpendSeries, spend_alt_text, spend_chart
from lumen.render.costs import chart_block
from lumen.render.limits import Block


@dataclass(frozen=True)
class CostChart:
    key: str  # the upload's outbox key
    filename: str
    title: str
    alt_text: str
    file_id: str | None  # in Slack already
    png: bytes | None = None  # drawn now: to be uploaded

    @property
    def placeholder(self) -> str:
        return "{" + self.key + "}"

    @property
    def block(self) -> Block:
        """The image block: by file id, or by the placeholder the outbox fills in once it is up."""
        return chart_block(self.file_id or self.placeholder, self.alt_text, self.title)


def scope_key(slugs: list[str]) -> str:
    """A scope of several ventures, named by which ones (viewers who see the same share it)."""
    return "all-" + hashlib.sha256(",".join(sorted(slugs)).encode()).hexdigest()[:12]


async def charts_for(session: AsyncSession, wanted: dict[str, SpendSeries], now: datetime) -> list[CostChart]:
    """One chart per scope (`wanted`: scope → series): this hour's if it was made, else drawn
    now (off the event loop) for `queue_uploads` to send. A chart whose upload died is left out."""
    hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    keys = {scope: f"costs-chart:{scope}:{hour}" for scope in wanted}
    rows = await repository.outbox_rows(session, list(keys.values()))
    charts = []
    for scope, series in wanted.items():
        key = keys[scope]
        title = f"{series.name}: spend against budget, {series.month}, as of {now.astimezone(UTC):%H:00} UTC"
        if series.simulated:
            title += " (simulated prices)"
        common = {"key": key, "filename": f"costs-{scope}-{hour}.png", "title": title, "alt_text": spend_alt_text(series)}
        row = rows.get(key)
        if row is None:
            charts.append(CostChart(**common, file_id=None, png=await asyncio.to_thread(spend_chart, series)))
        elif row.status == OutboxStatus.SENT and (row.result or {}).get("file_id"):
            charts.append(CostChart(**common, file_id=str(row.result["file_id"])))
        elif row.status == OutboxStatus.PENDING:  # going up: the outbox fills its id in
            charts.append(CostChart(**common, file_id=None))
    return charts


async def queue_uploads(session: AsyncSession, charts: list[CostChart]) -> None:
    for chart in charts:
        if chart.png is not None:
            await outbox.enqueue(
                session,
                FILE_UPLOAD,
                {"filename": chart.filename, "title": chart.title, "alt_text": chart.alt_text, "content_b64": base64.b64encode(chart.png).decode()},
                dedupe_key=chart.key,
            )


def files_of(charts: list[CostChart]) -> dict[str, str]:
    """For a payload that shows these charts: the placeholders the outbox fills in."""
    return {c.placeholder: c.key for c in charts if not c.file_id}
