"""Documents attached in the console's chat, in a real browser against the real stack: a PDF
uploaded with "Attach file" shows as a chip with its pages, a file that cannot be read says why
next to the control, and the next message carries the file so the model gets its page-marked
text. Also: a notice of a turn on another channel refreshes the chat's channel list and the
history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import FilePayload, Page, expect

from tests import file_samples as samples
from tests.console.a11y import check_screen
from tests.console.test_browser import last_answer, send, sign_in
from tests.console.test_screens import sign_in_at, unique
from tests.fakellm import FakeLLM
from tests.plugin_helpers import run_tool
from tests.test_files_chat import last_user_content

pytestmark = pytest.mark.timeout(180)


def payload(name: str, mime: str, content: bytes) -> FilePayload:
    """A file as the browser's file picker would hand it to the page."""
    return {"name": name, "mimeType": mime, "buffer": content}


async def test_a_pdf_attached_in_the_chat_reaches_the_model_with_its_pages(
    page: Page, client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str
) -> None:
    await sign_in(page, f"/chat/{channel}")
    attach = page.get_by_label("Attach file")

    # A file that cannot be read: the api's reason is shown next to the control.
    broken = b'{"not": json'
    refused = await client.post("/api/files", files={"file": ("broken.json", broken)})
    assert refused.status_code == 422, refused.text
    await attach.set_input_files(files=[payload("broken.json", "application/json", broken)])
    await expect(page.get_by_role("alert")).to_contain_text(
        f"broken.json: {refused.json()['detail']}"
    )

    pages = [unique("Revenue grew by ") + " percent", unique("Costs fell in "), "Outlook steady"]
    report = samples.pdf(pages)
    await attach.set_input_files(files=[payload("q1 report.pdf", "application/pdf", report)])
    chip = page.locator(".file-chip").filter(has_text="q1 report.pdf")
    await expect(chip).to_contain_text("3 pages")
    await expect(page.get_by_role("alert")).to_have_count(0)  # a good upload clears the error
    assert await page.get_by_role("button", name="Remove q1 report.pdf").is_enabled()
    assert not await check_screen(page, "chat-attached")

    # A second copy, removed again: only what is shown goes with the message.
    await attach.set_input_files(
        files=[payload("other.pdf", "application/pdf", samples.pdf(["x"]))]
    )
    await expect(page.locator(".file-chip")).to_have_count(2)
    await page.get_by_role("button", name="Remove other.pdf").click()
    await expect(page.locator(".file-chip")).to_have_count(1)

    await send(page, "What happened to costs?")
    await expect(page.locator(".file-chip")).to_have_count(0)  # sent with this message only
    await expect(page.get_by_role("article", name="You").last).to_contain_text("(1 file)")
    answer = last_answer(page)
    await expect(answer).to_contain_text("You said: What happened to costs?")
    await expect(answer).to_have_attribute("aria-busy", "false")
    assert not await check_screen(page, "chat-answered")

    sent = last_user_content(fake_llm, channel)
    assert sent.startswith('What happened to costs?\n\n<attached_file name="q1 report.pdf"')
    assert 'pages="3"' in sent and "other.pdf" not in sent
    for number, text in enumerate(pages, start=1):
        assert f"--- page {number} ---\n{text}" in sent


async def test_a_turn_elsewhere_refreshes_the_channel_list(
    page: Page, client: httpx.AsyncClient, channel: str
) -> None:
    await sign_in(page, "/chat/web")
    listed = page.get_by_role("navigation", name="Channels").get_by_role("button")
    await expect(listed.filter(has_text="Web")).to_be_visible()
    await expect(listed.filter(has_text=channel)).to_have_count(0)

    # A reminder fires on another channel; its turn there ends with a notice.
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    added = await run_tool(client, channel, "reminder_add", text="water the plants", at=soon)
    assert added["ok"] is True, added
    await expect(listed.filter(has_text=channel)).to_be_visible(timeout=30_000)


async def test_a_turn_elsewhere_refreshes_the_open_history(
    page: Page, client: httpx.AsyncClient, channel: str
) -> None:
    await sign_in_at(page, "/history")
    found = page.get_by_role("list", name="Conversations").get_by_role("link")
    await expect(page.get_by_text("Loading…")).to_have_count(0)
    await expect(found.filter(has_text=channel)).to_have_count(0)

    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    added = await run_tool(client, channel, "reminder_add", text="call the bank", at=soon)
    assert added["ok"] is True, added
    await expect(found.filter(has_text=channel)).to_be_visible(timeout=30_000)
