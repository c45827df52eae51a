"""The console's history and settings screens in a real browser against the real stack: history
searched, read, exported and deleted; a key added and shown masked; a prompt restored from a
revision; a bad setting refused next to its field; a memory forgotten; a pending approval shown
again after a reload; and every screen checked by axe-core, with screenshots."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import psycopg
from playwright.async_api import Locator, Page, expect

from tests.conftest import API_TOKEN
from tests.console.a11y import check_screen
from tests.console.test_browser import call, last_answer, send, sign_in
from tests.console.test_history import conversation

Db = psycopg.AsyncConnection[tuple[object, ...]]


async def sign_in_at(page: Page, path: str) -> None:
    """Sign in on any screen: the console opens the one the address names."""
    await page.goto(path)
    await page.get_by_label("API token").fill(API_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def panel_status(page: Page) -> Locator:
    """The screen's own status line (the notices list beside it is a status region too)."""
    return page.get_by_role("main").get_by_role("status")


def unique(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


async def test_history_is_searched_read_exported_and_deleted(page: Page, db: Db) -> None:
    word = unique("quokka")
    channel = unique("hist-")
    hit = await conversation(
        db, channel, [("user", f"Tell me of the {word}"), ("assistant", "It smiles.")]
    )
    await conversation(db, channel, [("user", "Something else entirely")])
    await sign_in_at(page, "/history")
    await page.get_by_label("Search conversations").fill(word[:-2])  # a prefix finds it
    await page.get_by_role("button", name="Search").click()
    found = page.get_by_role("list", name="Conversations").get_by_role("link")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(f"Tell me of the {word}")
    assert f"search={word[:-2]}" in page.url  # a reload finds the same

    await found.click()
    await expect(page.get_by_role("article", name="AION")).to_contain_text("It smiles.")
    async with page.expect_download() as markdown:
        await page.get_by_role("link", name="Export Markdown").click()
    saved = await (await markdown.value).path()
    assert (await markdown.value).suggested_filename == f"aion-conversation-{hit}.md"
    assert f"Tell me of the {word}" in saved.read_text()
    async with page.expect_download() as as_json:
        await page.get_by_role("link", name="Export JSON").click()
    exported = json.loads((await (await as_json.value).path()).read_text())
    assert exported["id"] == hit and [m["role"] for m in exported["messages"]] == [
        "user",
        "assistant",
    ]

    await page.get_by_role("button", name="Delete", exact=True).click()
    await page.get_by_role("button", name="Keep").click()  # asked first; kept
    await page.get_by_role("button", name="Delete", exact=True).click()
    await page.get_by_role("button", name="Delete conversation").click()
    await expect(page.get_by_role("heading", name="History")).to_be_visible()
    cur = await db.execute("SELECT count(*) FROM conversations WHERE id = %s", (hit,))
    assert (await cur.fetchone()) == (0,)


async def test_a_key_added_is_shown_masked_and_deleted(
    page: Page, client: httpx.AsyncClient
) -> None:
    name = f"CONSOLE{uuid.uuid4().hex[:6].upper()}_API_KEY"
    secret = "sk-console-" + uuid.uuid4().hex
    await sign_in_at(page, "/settings/keys")
    await page.get_by_label("Key name").fill(name)
    await page.get_by_label("Key value").fill(secret)
    await page.get_by_role("button", name="Save key").click()
    await expect(panel_status(page)).to_contain_text(f"{name} saved.")
    row = page.get_by_role("row").filter(has_text=name)
    await expect(row).to_contain_text("vault")
    assert secret not in await page.content()  # masked, never the value
    assert (
        secret[-4:] in await row.inner_text()
        or "•" in await row.inner_text()
        or "*" in await row.inner_text()
    )

    await row.get_by_role("button", name=f"Delete {name}").click()
    await page.get_by_role("button", name="Delete key").click()
    await expect(panel_status(page)).to_contain_text(f"{name} deleted.")
    listed = (await client.get("/api/keys")).json()
    assert name not in json.dumps(listed)


async def test_a_prompt_is_restored_from_a_revision(page: Page, client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/prompt/self")).json()["content"]
    first, second = unique("I am the first self "), unique("I am the second self ")
    try:
        await sign_in_at(page, "/settings/prompts")
        await page.get_by_role("tab", name="Self").click()
        editor = page.get_by_label("Self prompt")
        for text in (first, second):
            await editor.fill(text)
            await page.get_by_role("button", name="Save prompt").click()
            await expect(panel_status(page)).to_contain_text("Saved")
            await expect(editor).to_have_value(text)
        await page.get_by_role("button", name="View revision 1").click()
        revision = page.get_by_role("region", name="Revision 1")
        await expect(revision.locator(".diff .removed")).to_contain_text(first)
        await expect(revision.locator(".diff .added")).to_contain_text(second)
        await page.get_by_role("button", name="Restore revision 1").click()
        await expect(panel_status(page)).to_contain_text("Restored")
        await expect(editor).to_have_value(first)
        assert (await client.get("/api/prompt/self")).json()["content"] == first
    finally:
        await client.post("/api/prompt/self", json={"content": before})


async def test_a_bad_setting_shows_its_error_next_to_its_field(
    page: Page, client: httpx.AsyncClient, fresh_settings: None
) -> None:
    await sign_in_at(page, "/settings/config")
    field = page.get_by_label("Max History Turns")
    await field.fill("0")
    await page.get_by_role("button", name="Save settings").click()
    await expect(field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#setting-max_history_turns-error")
    await expect(error).to_contain_text("max_history_turns")
    await expect(error).to_contain_text("greater than or equal to 1")
    await expect(page.get_by_role("alert")).to_contain_text("Not saved")
    assert (await client.get("/api/config")).json()["settings"]["max_history_turns"] == 30

    await field.fill("12")
    await page.get_by_label("Memory Auto").uncheck()
    await page.get_by_role("button", name="Save settings").click()
    await expect(panel_status(page)).to_contain_text("Saved")
    await expect(field).not_to_have_attribute("aria-invalid", "true")
    owner_settings = (await client.get("/api/config")).json()["settings"]
    assert owner_settings["max_history_turns"] == 12 and owner_settings["memory_auto"] is False


async def test_a_memory_is_found_and_forgotten(page: Page, db: Db) -> None:
    word = unique("wombat")
    cur = await db.execute(
        "INSERT INTO memories (content, source) VALUES (%s, 'test') RETURNING id",
        (f"The owner keeps a {word} named Bruce",),
    )
    row = await cur.fetchone()
    assert row is not None
    await sign_in_at(page, "/settings/memory")
    memories = page.get_by_role("list", name="Memories")
    await expect(memories).to_contain_text(word)  # newest first
    await memories.get_by_role("button", name=f"Forget: The owner keeps a {word}").click()
    await expect(panel_status(page)).to_contain_text("Forgotten.")
    await expect(memories).not_to_contain_text(word)
    cur = await db.execute("SELECT count(*) FROM memories WHERE id = %s", (row[0],))
    assert (await cur.fetchone()) == (0,)


async def test_a_pending_approval_shows_again_after_a_reload(page: Page, channel: str) -> None:
    await sign_in(page, f"/chat/{channel}")
    await send(page, f"[[{call('risky', {'text': 'after reload'})}]]")
    card = page.get_by_role("region", name="Approval for risky")
    await expect(card.get_by_role("button", name="Approve")).to_be_visible()
    await expect(last_answer(page)).to_have_attribute("aria-busy", "false")
    await page.reload()
    card = page.get_by_role("region", name="Approval for risky")
    await expect(card).to_contain_text('"text": "after reload"')
    await card.get_by_role("button", name="Approve").click()
    await expect(last_answer(page)).to_contain_text("did:after reload")
    await page.reload()  # decided: not shown as waiting any more
    await expect(page.get_by_role("article", name="AION").last).to_contain_text("did:after reload")
    await expect(page.get_by_role("button", name="Approve")).to_have_count(0)


async def test_every_screen_passes_axe_and_is_photographed(
    page: Page, db: Db, channel: str
) -> None:
    hit = await conversation(
        db,
        channel,
        [("user", "A *screenshot* conversation"), ("assistant", "```\ncode block\n```")],
    )
    await sign_in(page, f"/chat/{channel}")
    await send(
        page,
        f"Some **markdown** and code:\n```\nprint(1)\n``` [[{call('echo', {'text': 'card'})}]]",
    )
    await expect(page.get_by_role("region", name="Tool call echo")).to_contain_text("ok")
    await expect(page.get_by_role("button", name="Copy code").first).to_be_visible()
    screens = {"chat": None, "history": "/history", "conversation": f"/history/{hit}"}
    panels = (
        "model",
        "keys",
        "prompts",
        "memory",
        "plugins",
        "mcp",
        "config",
        "telegram",
        "system",
    )
    for panel in panels:
        screens[f"settings-{panel}"] = f"/settings/{panel}"
    found = await check_screen(page, "chat")
    for name, path in screens.items():
        if path is None:
            continue
        await (
            page.get_by_role("navigation", name="Sections")
            .get_by_role("link", name="Settings" if name.startswith("settings") else "History")
            .click()
        )
        await page.goto(path)
        await expect(page.get_by_role("heading", level=2).first).to_be_visible()
        # Not "networkidle": the notices stream (GET /api/events) stays open by design.
        await expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0)
        found += await check_screen(page, name)
    await page.goto("/")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API token")).to_be_visible()
    found += await check_screen(page, "signin")
    assert not found, "\n".join(found)
