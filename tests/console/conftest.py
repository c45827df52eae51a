"""Fixtures of the console tests: the browser and a fresh page on the console, and an api replica
with a public https URL and a console folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, ensure_chromium, ensure_console_built
from tests.helpers import fresh_address
from tests.stack import Service, Stack

PUBLIC_URL = "https://aion.example.com"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, driven by Playwright (a downloaded browser build does not work here)."""
    ensure_chromium()
    ensure_console_built()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, ensure_worker: Stack) -> AsyncIterator[Page]:
    """A fresh browser profile (no cookie) from an address of its own, on the console."""
    context = await browser.new_context(
        base_url=ensure_worker.api_url,
        extra_http_headers={"X-Forwarded-For": fresh_address()},
        viewport={"width": 390, "height": 844},
    )
    opened = await context.new_page()
    yield opened
    await context.close()


@pytest.fixture(scope="package")
def public_api(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, Path]]:
    """An api replica behind a public https URL, serving a console folder of the test's own."""
    console = tmp_path_factory.mktemp("console")
    (console / "assets").mkdir()
    (console / "index.html").write_text("<!doctype html><title>AION</title>")
    (console / "assets" / "app-1234.js").write_text("console.log(1)")
    api = stack.start_extra_api(
        {"AION_PUBLIC_URL": PUBLIC_URL, "AION_CONSOLE_DIR": str(console), "AION_SESSION_DAYS": "2"}
    )
    yield api, console
    api.stop()
