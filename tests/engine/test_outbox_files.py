"""Files through the outbox: a chart is uploaded, and the post that shows it waits for its id;
if Slack refuses the image (or the upload never goes through), the post goes out without it
rather than not at all."""

from __future__ import annotations

import base64

from lumen.container import Container
from lumen.db.models import OutboxStatus
from lumen.engine import outbox
from lumen.engine.slack_calls import FILE_UPLOAD
from tests.engine.helpers import eventually, outbox_rows

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()


async def _queue(container: Container, channel: str, key: str) -> None:
    placeholder = f"{{{key}:chart}}"
    image = {"type": "image", "slack_file": {"id": placeholder}, "alt_text": "v3 80% of 5"}
    words = {"type": "section", "text": {"type": "mrkdwn", "text": "*v3*: 80% success (4 of 5)"}}
    async with container.db.transaction() as session:
        await outbox.enqueue(
            session,
            FILE_UPLOAD,
            {"filename": "chart.png", "title": "Chart", "alt_text": "v3 80% of 5", "content_b64": PNG},
            dedupe_key=f"{key}:chart",
        )
        await outbox.enqueue(
            session,
            "chat.postMessage",
            {"channel": channel, "text": "summary", "blocks": [words, image], "fallback_blocks": [words],
             "files_of": {placeholder: f"{key}:chart"}},
            dedupe_key=f"{key}:summary",
        )
    container.signals.outbox.notify()


def _summary(ws, channel_id: str):  # type: ignore[no-untyped-def]
    return [m for m in ws.messages(channel_id) if m.text == "summary"]


async def test_the_post_shows_the_uploaded_file(container: Container, open_stack) -> None:
    async with open_stack() as stack:
        ws = stack.workspace
        channel = ws.channel_by_name("venture-acme")
        await _queue(container, channel.id, "k1")
        [post] = await ws.wait_for(lambda: _summary(ws, channel.id), timeout=10)
        [image] = [b for b in post.blocks if b["type"] == "image"]
        stored = ws.files.image(image["slack_file"]["id"])
        assert stored is not None and stored.content.startswith(b"\x89PNG") and stored.alt_text == "v3 80% of 5"


async def test_refused_blocks_fall_back_to_the_words(container: Container, open_stack) -> None:
    async with open_stack() as stack:
        ws = stack.workspace
        channel = ws.channel_by_name("venture-acme")
        ws.fail("chat.postMessage", "invalid_blocks", times=1)
        await _queue(container, channel.id, "k2")
        [post] = await ws.wait_for(lambda: _summary(ws, channel.id), timeout=10)
        assert [b["type"] for b in post.blocks] == ["section"]
        row = await eventually(lambda: _row_if(container, "k2:summary", OutboxStatus.SENT), timeout=5)
        assert row.last_error is None


async def test_an_upload_that_never_goes_through_does_not_hold_the_post_back(container: Container, open_stack) -> None:
    async with open_stack() as stack:
        ws = stack.workspace
        channel = ws.channel_by_name("venture-acme")
        ws.fail("files.getUploadURLExternal", "missing_scope")  # the app was installed without files:write
        await _queue(container, channel.id, "k3")
        [post] = await ws.wait_for(lambda: _summary(ws, channel.id), timeout=15)
        assert [b["type"] for b in post.blocks] == ["section"]
        chart = await eventually(lambda: _row_if(container, "k3:chart", OutboxStatus.DEAD), timeout=5)
        assert "missing_scope" in (chart.last_error or "")


async def _row_if(container: Container, key: str, status: OutboxStatus):  # type: ignore[no-untyped-def]
    rows = {r.dedupe_key: r for r in await outbox_rows(container.db)}
    row = rows.get(key)
    return row if row is not None and row.status == status else None


async def test_a_home_tab_whose_chart_never_goes_up_is_published_without_it(container: Container, open_stack) -> None:
    """The fallback replaces a view's blocks (views.publish), not a message's."""
    async with open_stack() as stack:
        ws = stack.workspace
        ws.fail("files.getUploadURLExternal", "missing_scope")
        placeholder = "{home:chart}"
        words = {"type": "section", "text": {"type": "mrkdwn", "text": "*acme* · $3.00 of $50.00"}}
        image = {"type": "image", "slack_file": {"id": placeholder}, "alt_text": "acme: $3.00 spent"}
        async with container.db.transaction() as session:
            await outbox.enqueue(
                session, FILE_UPLOAD, {"filename": "costs.png", "title": "Costs", "alt_text": "acme", "content_b64": PNG},
                dedupe_key="home:chart",
            )
            await outbox.enqueue(
                session, "views.publish",
                {"user_id": "U0ALICE", "view": {"type": "home", "blocks": [words, image]}, "fallback_blocks": [words],
                 "files_of": {placeholder: "home:chart"}},
                dedupe_key="home:U0ALICE:1",
            )
        container.signals.outbox.notify()
        view = await ws.wait_for(lambda: ws.home_views.get("U0ALICE"), timeout=15)
        assert [(b["type"], b.get("text")) for b in view.definition["blocks"]] == [("section", words["text"])]
