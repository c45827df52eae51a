"""The MCP servers panel in a real browser against the real stack and a real MCP server (the SDK's
server side, tests/fakemcp/server.py, over streamable HTTP): the owner adds it with a header,
sees it connected with its tools and the header masked, disables and enables it, is told what
is wrong with a bad name and a taken one, and deletes it; axe checks the panel."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.console.a11y import check_screen
from tests.console.test_screens import panel_status, sign_in_at
from tests.test_mcp import HttpMcpServer

# Each change returns once every live worker tried the server: allow for a busy machine.
APPLIED = 45_000


@pytest.fixture
def mcp_server() -> Iterator[HttpMcpServer]:
    server = HttpMcpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def name(client: httpx.AsyncClient) -> AsyncIterator[str]:
    """A fresh server name; the server is removed afterwards if the test left it."""
    chosen = f"ui{uuid.uuid4().hex[:8]}"
    yield chosen
    await client.delete(f"/api/mcp/servers/{chosen}")


async def listed(client: httpx.AsyncClient, name: str) -> dict[str, object] | None:
    servers = (await client.get("/api/mcp/servers")).json()["servers"]
    return next((s for s in servers if s["name"] == name), None)


async def test_a_server_is_added_seen_switched_and_deleted(
    page: Page, client: httpx.AsyncClient, mcp_server: HttpMcpServer, name: str
) -> None:
    secret = "Bearer sk-console-mcp-" + uuid.uuid4().hex
    await sign_in_at(page, "/settings/mcp")
    await expect(page.get_by_role("heading", name="MCP servers")).to_be_visible()
    form = page.get_by_role("region", name="Add a server")

    # A bad name: the api's own words, in the alert and beside the field.
    await form.get_by_label("Name", exact=True).fill("Bad Name")
    await form.get_by_label("URL").fill(mcp_server.url)
    await form.get_by_role("button", name="Add server").click()
    alert = form.get_by_role("alert")
    await expect(alert).to_contain_text("Not added: http.name: String should match pattern")
    name_field = form.get_by_label("Name", exact=True)
    await expect(name_field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#mcp-name-error")).to_contain_text("name: String should match")
    assert await listed(client, "Bad Name") is None

    # The right name and a header typed by keyboard: "Add header" puts the focus in the new row.
    await name_field.fill(name)
    await form.get_by_label("Header 1 name").fill("X-Unused")
    await form.get_by_role("button", name="Add header").press("Enter")
    await expect(form.get_by_label("Header 2 name")).to_be_focused()
    await page.keyboard.type("Authorization")
    await form.get_by_label("Header 2 value").fill(secret)
    await form.get_by_role("button", name="Remove header 1").click()
    await expect(form.get_by_label("Header 2 name")).to_have_count(0)  # renumbered
    await expect(form.get_by_label("Header 1 name")).to_have_value("Authorization")
    await form.get_by_label("Run them without asking").check()
    await form.get_by_role("button", name="Add server").click()
    await expect(form.get_by_role("status")).to_contain_text(
        re.compile(rf"{name} added: connected, \d+ tools\."), timeout=APPLIED
    )
    await expect(name_field).to_have_value("")  # the form starts afresh
    await expect(name_field).not_to_have_attribute("aria-invalid", "true")

    card = page.get_by_role("region", name=f"MCP server {name}")
    await expect(card).to_contain_text("connected")
    await expect(card).to_contain_text(mcp_server.url)
    await expect(card).to_contain_text("run without asking")
    await expect(card).to_contain_text("Authorization: Bear…")  # masked
    assert secret not in await page.content()
    stored = await listed(client, name)
    assert stored is not None and stored["risk"] == "allow"
    assert stored["headers"] == {"Authorization": f"{secret[:4]}…{secret[-4:]}"}

    # The tools, in a list that opens and closes by keyboard.
    tools = card.get_by_role("table", name=f"Tools of {name}")
    await expect(tools).to_be_hidden()
    summary = card.get_by_text(re.compile(r"^\d+ tools$"))
    await summary.focus()
    await page.keyboard.press("Enter")
    echo = tools.get_by_role("row").filter(has_text=f"mcp__{name}__echo")
    await expect(echo).to_contain_text("Say the text back.")
    await expect(echo).to_contain_text("safe")  # risk "allow": its tools run without asking

    # The same name again: the api's 409 is said in the form.
    await form.get_by_label("Name", exact=True).fill(name)
    await form.get_by_label("URL").fill(mcp_server.url)
    await form.get_by_role("button", name="Add server").click()
    await expect(form.get_by_role("alert")).to_contain_text(f"'{name}' exists already")

    # Off and on again: tools gone while off, back when on.
    await card.get_by_role("button", name=f"Disable {name}").click()
    await expect(panel_status(page).first).to_contain_text(
        f"{name} disabled; its tools are no longer offered.", timeout=APPLIED
    )
    await expect(card.locator(".badge.state-disabled")).to_have_text("disabled")
    await expect(tools).to_have_count(0)
    stored = await listed(client, name)
    assert stored is not None and stored["enabled"] is False and stored["tools"] == []
    enable = card.get_by_role("button", name=f"Enable {name}")
    await enable.click()
    await expect(panel_status(page).first).to_contain_text(
        re.compile(rf"{name} enabled: connected, \d+ tools\."), timeout=APPLIED
    )
    await expect(card.locator(".badge.state-connected")).to_have_text("connected")
    await expect(card.get_by_role("button", name=f"Disable {name}")).to_be_focused()

    # The panel with a server, its tools open and the stdio form, checked by axe.
    await card.get_by_text(re.compile(r"^\d+ tools$")).click()
    await expect(tools).to_be_visible()
    await form.get_by_label(re.compile(r"^stdio")).check()
    await expect(form.get_by_label("Command", exact=True)).to_be_visible()
    await expect(form.get_by_label("Variable 1 name")).to_be_visible()
    await expect(form.get_by_label("URL")).to_have_count(0)
    await card.evaluate("el => el.scrollIntoView()")  # the screenshots show the server
    found = await check_screen(page, "settings-mcp-server")
    assert not found, "\n".join(found)

    # Deleted, after being asked.
    await card.get_by_role("button", name=f"Delete {name}").click()
    await card.get_by_role("button", name="Keep").click()
    await expect(card).to_be_visible()
    await card.get_by_role("button", name=f"Delete {name}").click()
    await card.get_by_role("button", name="Delete server").click()
    await expect(panel_status(page).first).to_contain_text(f"{name} deleted.", timeout=APPLIED)
    await expect(card).to_have_count(0)
    assert await listed(client, name) is None


async def test_a_stdio_server_with_a_bad_variable_is_refused_by_name(
    page: Page, client: httpx.AsyncClient, name: str
) -> None:
    await sign_in_at(page, "/settings/mcp")
    form = page.get_by_role("region", name="Add a server")
    await form.get_by_label(re.compile(r"^stdio")).check()
    await form.get_by_label("Name", exact=True).fill(name)
    await form.get_by_label("Command", exact=True).fill("python3")
    await form.get_by_label("Arguments (one per line)").fill("server.py\nstdio")
    await form.get_by_label("Variable 1 name").fill("AION_SECRET_KEY")
    await form.get_by_label("Variable 1 value").fill("stolen")
    await form.get_by_role("button", name="Add server").click()
    await expect(form.get_by_role("alert")).to_contain_text(
        "Not added: stdio.env: Value error, 'AION_SECRET_KEY' may not be set"
    )
    await expect(page.locator("#mcp-env-error")).to_contain_text("'AION_SECRET_KEY' may not be set")
    # A row with a value and no name never reaches the api: the form says which row.
    await form.get_by_label("Variable 1 name").fill("")
    await form.get_by_role("button", name="Add server").click()
    await expect(form.get_by_role("alert")).to_contain_text(
        "Not added: Variable 1 has a value but no name."
    )
    assert await listed(client, name) is None
