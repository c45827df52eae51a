"""The HTTP client the provider SDKs stream through.

Reading a model's stream is most of a worker's CPU: one small chunk per token, each parsed by
httpx2's pure-Python HTTP/1.1 code. Both SDKs ship an aiohttp-backed httpx2 client
(`DefaultAioHttpClient`, their `aiohttp` extra) whose HTTP parser is C; the SDK still builds
the request, retries, maps status codes to its error types and applies its timeouts, so only
the bytes on the wire take another path. `bench/stream_client.py` measures the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import anthropic
import httpx2
import openai

Transport = Literal["aiohttp", "httpx"]
DEFAULT_TRANSPORT: Transport = "aiohttp"


def openai_http_client(transport: Transport, timeout: float) -> httpx2.AsyncClient | None:
    """The client for `openai.AsyncOpenAI(http_client=...)`; None keeps the SDK's own."""
    if transport == "aiohttp":
        client: httpx2.AsyncClient = openai.DefaultAioHttpClient(timeout=timeout)
        return client
    return None


def anthropic_http_client(transport: Transport, timeout: float) -> httpx2.AsyncClient | None:
    """The client for `anthropic.AsyncAnthropic(http_client=...)`; None keeps the SDK's own."""
    if transport == "aiohttp":
        client: httpx2.AsyncClient = anthropic.DefaultAioHttpClient(timeout=timeout)
        return client
    return None


async def sse_lines(response: httpx2.Response) -> AsyncIterator[list[bytes]]:
    """The stream's lines, as bytes without their ends, a list per chunk that arrived.

    httpx2's `aiter_lines` decodes every chunk to text and splits it in Python layers; the
    decoders only need `data:` lines, which orjson reads from bytes as they are."""
    rest = b""
    async for chunk in response.aiter_bytes():
        data = rest + chunk if rest else chunk
        lines = data.splitlines()
        rest = b"" if data.endswith((b"\n", b"\r")) or not lines else lines.pop()
        if lines:
            yield lines
    if rest:
        yield [rest]
