"""Live notices in a real browser against the real stack: a reminder that fires shows up as a
notice on the open console (GET /api/events through fetch and the console's SSE parser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect

from tests.conftest import API_TOKEN
from tests.plugin_helpers import run_tool


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
