"""Live notices in a real browser against the real stack: a reminder that fires shows up as a
notice on the open console (GET /api/events through fetch and the console's SSE parser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import API_TOKEN
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, ensure_chromium, ensure_console_built
from tests.helpers import fresh_address
from tests.plugin_helpers import run_tool
from tests.stack import Stack


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
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
    context = await browser.new_context(
        base_url=ensure_worker.api_url,
        extra_http_headers={"X-Forwarded-For": fresh_address()},
        viewport={"width": 390, "height": 844},
    )
    opened = await context.new_page()
    yield opened
    await context.close()


async def test_a_reminder_that_fires_appears_as_a_notice(
    page: Page, client: httpx.AsyncClient, channel: str
) -> None:
    await page.goto("/")
    await page.get_by_label("API token").fill(API_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Message")).to_be_visible()
    notices = page.get_by_role("region", name="Notices").get_by_role("list")
    await expect(notices).to_be_attached()
    await expect(notices).not_to_contain_text("feed the cat")

    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    added = await run_tool(client, channel, "reminder_add", text="feed the cat", at=soon)
    assert added["ok"] is True, added

    items = notices.get_by_role("listitem")
    reminder = items.filter(has_text=f"Reminder: feed the cat (on {channel})")
    await expect(reminder).to_be_visible(timeout=20_000)
    # Its turn on that channel ends too, and says what AION answered.
    answered = items.filter(has_text=f"{channel}: AION answered — You said: Reminder: feed the cat")
    await expect(answered).to_be_visible(timeout=20_000)
    await reminder.get_by_role("button", name="Dismiss notice").click()
    await expect(reminder).to_have_count(0)
