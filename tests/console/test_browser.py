"""The console in a real browser against the real stack and the fake LLM: sign-in, a streamed
answer, tool cards, approvals, cancel, sign-out."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from playwright.async_api import Locator, Page, expect

from tests.conftest import API_TOKEN

# A turn goes through the queue, a worker and the fake LLM: allow more than Playwright's 5 s.
expect.set_options(timeout=20_000)


def call(name: str, args: dict[str, str]) -> str:
    return f"call={name}:{quote(json.dumps(args))}"


async def sign_in(page: Page, path: str = "/") -> None:
    await page.goto(path)
    await page.get_by_label("API token").fill(API_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Message")).to_be_visible()


async def send(page: Page, text: str) -> None:
    await page.get_by_label("Message").fill(text)
    await page.get_by_label("Message").press("Enter")


def last_answer(page: Page) -> Locator:
    return page.get_by_role("article", name="AION").last


async def test_wrong_then_right_sign_in_and_no_token_in_the_page(page: Page) -> None:
    await page.goto("/")
    await page.get_by_label("API token").fill("not-the-token-" + "x" * 30)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not valid")
    await page.get_by_label("API token").fill(API_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Message")).to_be_visible()
    # The token is nowhere a page script can read it: the session is an HttpOnly cookie.
    assert await page.evaluate("document.cookie") == ""
    storage = await page.evaluate("JSON.stringify([localStorage, sessionStorage])")
    assert API_TOKEN not in storage
    cookies = await page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("aion_session", True, "Strict")
    ]
    await page.reload()  # the session outlives the page
    await expect(page.get_by_label("Message")).to_be_visible()


async def test_a_streamed_answer_grows_on_the_page(page: Page, channel: str) -> None:
    await sign_in(page, f"/chat/{channel}")
    await send(page, "Count slowly [[tokens=30 gap=80]]")
    answer = last_answer(page)
    await expect(answer).to_contain_text("t3")
    early = await answer.inner_text()
    assert "t29" not in early, "the whole answer came at once"
    await expect(answer).to_contain_text("t29")
    await expect(answer).to_have_attribute("aria-busy", "false")
    assert (await answer.inner_text()).count("t29") == 1


async def test_markdown_is_rendered_and_sanitised(page: Page, channel: str) -> None:
    await sign_in(page, f"/chat/{channel}")
    await send(page, "**bold** and <img src=x onerror=alert(1)> [[tokens=2]]")
    mine = page.get_by_role("article", name="You").last
    await expect(mine.locator("strong")).to_have_text("bold")
    assert await mine.locator("img[onerror]").count() == 0


async def test_a_tool_call_shows_as_a_card(page: Page, channel: str) -> None:
    await sign_in(page, f"/chat/{channel}")
    await send(page, f"[[{call('echo', {'text': 'hi there'})}]]")
    card = page.get_by_role("region", name="Tool call echo")
    await expect(card).to_contain_text('"text": "hi there"')
    await expect(card).to_contain_text("ok")
    await expect(last_answer(page)).to_contain_text("Tool results: echo:hi there")


async def test_an_approval_approved_and_one_denied(page: Page, channel: str) -> None:
    await sign_in(page, f"/chat/{channel}")
    await send(page, f"[[{call('risky', {'text': 'launch'})}]]")
    card = page.get_by_role("region", name="Approval for risky")
    await expect(card).to_contain_text('"text": "launch"')
    await card.get_by_role("button", name="Approve").click()
    await expect(last_answer(page)).to_contain_text("did:launch")
    await expect(card.get_by_role("button", name="Approve")).to_have_count(0)

    await send(page, f"[[{call('risky', {'text': 'delete'})}]]")
    second = page.get_by_role("region", name="Approval for risky").last
    await expect(second).to_contain_text('"text": "delete"')
    await second.get_by_role("button", name="Deny").click()
    await expect(second).to_contain_text("denied")
    await expect(last_answer(page)).to_have_attribute("aria-busy", "false")
    assert "did:delete" not in await last_answer(page).inner_text()


async def test_cancel_stops_a_running_turn(page: Page, channel: str) -> None:
    await sign_in(page, f"/chat/{channel}")
    await send(page, "A long one [[tokens=400 gap=100]]")
    await expect(last_answer(page)).to_contain_text("t2")
    await page.get_by_role("button", name="Cancel").click()
    await expect(last_answer(page)).to_contain_text("Cancelled.")
    assert "t399" not in await last_answer(page).inner_text()
    await expect(page.get_by_role("button", name="Send")).to_be_visible()


async def test_sign_out_ends_the_session(page: Page) -> None:
    await sign_in(page)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API token")).to_be_visible()
    assert await page.context.cookies() == []
    await page.reload()
    await expect(page.get_by_label("API token")).to_be_visible()


async def test_the_page_runs_under_its_csp_without_violations(page: Page) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await sign_in(page)
    assert not [p for p in problems if re.search("Content Security Policy|Refused", p)], problems
