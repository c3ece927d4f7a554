"""End-to-end: the real stack (dev workspace + Lumen on SQLite) and a headless Chromium.

Without Chromium the browser tests skip, unless LUMEN_REQUIRE_BROWSER=1 (CI sets it): then a
missing browser is a failure, so CI can never go green by silently skipping them.
On failure, a screenshot goes to test-results/<test name without "test_">.png.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lumen.settings import Settings
from lumen.devmode import DevStack, demo_config, dev_stack

CHROMIUM = os.environ.get("LUMEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_missing(reason: str) -> None:
    if os.environ.get("LUMEN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and LUMEN_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(f"{reason} (set LUMEN_REQUIRE_BROWSER=1 to make this a failure)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
async def e2e_stack(tmp_path: Path) -> AsyncIterator[DevStack]:
    settings = Settings(
        LUMEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'lumen.db'}",
        LUMEN_CONFIG=str(tmp_path / "lumen.yml"),
    )
    async with dev_stack(settings, demo_config()) as stack:
        yield stack


@pytest.fixture
async def page(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _browser_missing("playwright is not installed")
    if not os.path.exists(CHROMIUM):
        _browser_missing(f"no Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            pg = await browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            pg.on("pageerror", lambda exc: errors.append(str(exc)))
            pg.set_default_timeout(5_000)
            yield pg
            failed = getattr(request.node, "report_call", None)
            if failed is not None and failed.failed:
                shots = request.config.rootpath / "test-results"
                shots.mkdir(exist_ok=True)
                name = request.node.originalname.removeprefix("test_")
                await pg.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            await browser.close()
