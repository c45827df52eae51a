"""The console resumes a turn whose connection was cut mid-answer: the page reads the rest with
Last-Event-ID, and the answer ends complete, every token once, from one model request."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.console.test_browser import last_answer, send, sign_in
from tests.fakellm import FakeLLM
from tests.fault_helpers import TcpProxy
from tests.helpers import fresh_address
from tests.stack import Stack
from tests.test_agent import requests_for

TOKENS = 40


@pytest.fixture
async def proxy(ensure_worker: Stack) -> AsyncIterator[TcpProxy]:
    """The api behind a TCP hop the test can cut (the network dropping under the page)."""
    assert ensure_worker.api is not None
    hop = TcpProxy(ensure_worker.api_port).start()
    yield hop
    hop.stop()


@pytest.fixture
async def cut_page(browser: Browser, proxy: TcpProxy) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=proxy.url,
        extra_http_headers={"X-Forwarded-For": fresh_address()},
        viewport={"width": 1280, "height": 800},
    )
    opened = await context.new_page()
    yield opened
    await context.close()


async def test_a_cut_connection_resumes_the_same_turn_complete_and_not_doubled(
    cut_page: Page, proxy: TcpProxy, fake_llm: FakeLLM, channel: str
) -> None:
    await sign_in(cut_page, f"/chat/{channel}")
    await send(cut_page, f"Count slowly [[tokens={TOKENS} gap=60]]")
    answer = last_answer(cut_page)
    await expect(answer).to_contain_text("t5")
    connected = proxy.accepted
    assert proxy.reset() > 0  # the stream's connection, and any other, reset mid-answer
    await expect(answer).to_contain_text(f"t{TOKENS - 1}")
    await expect(answer).to_have_attribute("aria-busy", "false")
    shown = re.findall(r"\bt\d+\b", await answer.inner_text())
    assert shown == [f"t{i}" for i in range(TOKENS)], "tokens lost or doubled"
    assert proxy.accepted > connected, "the page read the rest on a new connection"
    # The same turn went on: the model was asked once, not again.
    assert len(requests_for(fake_llm, channel)) == 1
