"""`lumen dev` across restarts: the workspace (channels with their IDs, messages, users) is
kept beside the dev database, so what Lumen posted before a restart is still there and can
still be changed after it; `--fresh` starts over."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

from devslack import Workspace
from lumen.devmode import dev_stack
from lumen.container import Container
from tests.approvals.support import FAST_RETRIES, approve, get, wait_run, wake_gate
from lumen.db.models import Approval, ApprovalStatus, RunStatus

LUMEN = shutil.which("lumen", path=str(Path(sys.executable).parent))
COMMAND = [LUMEN] if LUMEN else [sys.executable, "-m", "lumen"]
SOURCES = str(Path(__file__).parents[1] / "src")  # this checkout's, as in tests/test_cli.py


async def test_an_approval_posted_before_a_restart_is_decided_and_updated_after_it(
    container: Container, tmp_path: Path
) -> None:
    saved = tmp_path / "workspace.json"
    before = Workspace.demo(retry_delays=FAST_RETRIES)
    before.persist(saved)
    async with dev_stack(container.settings, container.config, workspace=before) as stack:
        gate = await wake_gate(stack)
        channel_id = stack.workspace.channel_by_name("venture-acme").id

    after = Workspace.demo(retry_delays=FAST_RETRIES)
    assert after.persist(saved)
    async with dev_stack(container.settings, container.config, workspace=after) as stack:
        ws, db = stack.workspace, stack.container.db
        assert ws.channel_by_name("venture-acme").id == channel_id == gate.channel_id
        assert gate.message(ws).text.startswith("Approval needed")
        await approve(ws, "U0BOB", gate.channel_id, gate.ts)
        await wait_run(db, gate.run_id, RunStatus.SUCCEEDED)
        assert (await get(db, Approval, gate.approval_id)).status == ApprovalStatus.APPROVED
        # The old message is rewritten in place; no channel_not_found, nothing left undelivered.
        await ws.wait_for(lambda: gate.message(ws).text.startswith("✅ Approved"), 10)
        updates = [c for c in ws.calls_to("chat.update") if c.params.get("ts") == gate.ts]
        assert [c.response["ok"] for c in updates] == [True]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _lumen_dev(folder: Path, *flags: str) -> tuple[str, dict[str, str]]:
    """Start `lumen dev` in `folder`, wait until it serves, stop it with Ctrl-C; return what it
    printed and the channel IDs its workspace file holds afterwards."""
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LUMEN_LOG_LEVEL": "warning", "PYTHONPATH": SOURCES}
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, "dev", "--port", str(port), "--workspace-port", str(_free_port()), "--no-demo", *flags,
        cwd=folder, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    printed = []
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()  # type: ignore[union-attr]
            assert line, f"lumen dev ended early: {printed} {(await proc.stderr.read()).decode()}"  # type: ignore[union-attr]
            printed.append(line)
            if "Ctrl-C stops it." in line:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    saved = json.loads((folder / ".lumen" / "workspace.json").read_text())
    return "".join(printed), {c["name"]: c["id"] for c in saved["channels"] if not c["is_im"]}


async def test_lumen_dev_keeps_its_workspace_until_told_to_start_fresh(tmp_path: Path) -> None:
    first, channels = await _lumen_dev(tmp_path)
    assert "workspace: .lumen/workspace.json (new;" in first
    assert "prices:    the simulated price table of the offline model (no money is spent)" in first
    assert {"general", "venture-acme", "venture-brightbox", "lumen-platform"} <= set(channels)
    assert (tmp_path / ".lumen" / "dev.db").exists()

    again, kept = await _lumen_dev(tmp_path)
    assert "(kept from the last run;" in again
    assert kept == channels

    fresh, renewed = await _lumen_dev(tmp_path, "--fresh")
    assert "--fresh: removed .lumen/dev.db" in fresh and "--fresh: removed .lumen/workspace.json" in fresh
    assert "(new;" in fresh
    assert set(renewed) == set(channels) and renewed["venture-acme"] != channels["venture-acme"]


async def test_fresh_never_touches_a_database_the_operator_chose(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs.db"
    theirs.write_bytes(b"not lumen dev's")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LUMEN_DATABASE_URL": f"sqlite+aiosqlite:///{theirs}", "PYTHONPATH": SOURCES}
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, "dev", "--fresh", "--port", str(_free_port()), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, (out, err)
    assert "LUMEN_DATABASE_URL points at another database, which it will not touch" in err.decode()
    assert theirs.read_bytes() == b"not lumen dev's"
