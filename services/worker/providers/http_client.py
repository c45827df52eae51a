"""The HTTP client the provider SDKs stream through.

Reading a model's stream is most of a worker's CPU: one small chunk per token, each parsed by
httpx2's pure-Python HTTP/1.1 code. Both SDKs ship an aiohttp-backed httpx2 client
(`DefaultAioHttpClient`, their `aiohttp` extra) whose HTTP parser is C; the SDK still builds
the request, retries, maps status codes to its error types and applies its timeouts, so only
the bytes on the wire take another path. `bench/stream_client.py` measures the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

import anthropic
import httpx2
import openai

from services.worker.providers.base import ProviderChunk, ReasoningDelta, TextDelta

Transport = Literal["aiohttp", "httpx"]
DEFAULT_TRANSPORT: Transport = "aiohttp"
# Fast reads in a row, after the one that began the answer, before a stream is paced.
PACE_AFTER_READS = 2
# Bytes in the socket that end a paced wait early: far more than a window of tokens, and
# well below the default receive buffer, so the kernel leaves the TCP window as it is.
LOW_WATER_BYTES = 16384


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


class PacedReader:
    """Reads a fast stream at most once per `window` seconds once the answer has begun.

    At a real model's pace each token is a chunk of its own, and each chunk a wake-up of the
    worker (the socket read, the HTTP parser, every layer up to the emitter), while the emitter
    sends what arrives within its flush window as one event anyway. Between reads the socket is
    left unread (its transport paused), so the chunks pile up in the kernel and one wake-up
    carries them all.

    Never before the answer has begun (`began()`: the first token goes out at once) nor after
    it ended (`ended()`). Only while the stream is fast: the two reads after the one that
    began the answer each came within half a window, and each paused window gathers several
    events. A slower stream is read as it comes, since pausing it would add a wake-up per chunk
    instead of saving one; so is a burst that arrives in a read or two (a short or cached
    answer), which pausing would only make late. The end of a fast answer may be read up to one
    window late when it comes apart from its last words. Other transports than aiohttp are read
    as they come.
    """

    def __init__(self, window: float) -> None:
        self._window = window
        self._began = False
        self._ended = False

    def began(self) -> None:
        """The answer has begun: text or reasoning went out."""
        self._began = True

    def ended(self) -> None:
        """The provider said its last word: read the rest at once."""
        self._ended = True

    async def lines(self, response: httpx2.Response) -> AsyncIterator[list[bytes]]:
        loop = asyncio.get_running_loop()
        upstream = _aiohttp_response(response) if self._window > 0 else None
        source = aiter(sse_lines(response))
        paused = False
        paced_reads = -1  # reads in a row within half a window since the answer began
        while True:
            asked = loop.time()
            try:
                lines = await anext(source)
            except StopAsyncIteration:
                return
            arrived = loop.time()
            yield lines
            if upstream is None or not self._began or self._ended:
                continue
            if paused and sum(line.startswith(b"data:") for line in lines) < 2:
                upstream = None  # a whole window brought one event: slower than the window
                continue
            fast = arrived - asked < self._window / 2
            paced_reads = paced_reads + 1 if fast or paced_reads < 0 else 0
            rest = arrived + self._window - loop.time()
            if (paused or (fast and paced_reads >= PACE_AFTER_READS)) and rest > 0:
                paused = await _unread_for(upstream, rest)


async def _unread_for(upstream: Any, seconds: float) -> bool:
    """Leave the socket unread for `seconds`, unless the body is all in already (the connection
    went back to the pool) or aiohttp's own flow control holds the transport.

    The socket's receive low-water mark is raised rather than its transport paused: the event
    loop then keeps watching it, but the kernel does not report it readable until a window's
    worth of bytes is in (`LOW_WATER_BYTES`), it closes or the mark is lowered again. Pausing
    the transport would cost a wake-up per window: uvloop (libuv) drops a paused socket from
    epoll only once the next chunk has woken the loop."""
    connection = upstream.connection
    transport = getattr(connection, "transport", None)
    if transport is None or transport.is_closing() or not transport.is_reading():
        return False
    sock = transport.get_extra_info("socket")
    if sock is None:
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, LOW_WATER_BYTES)
    except (OSError, ValueError):  # uvloop: ValueError for a socket already closed
        return False
    try:
        await asyncio.sleep(seconds)
    finally:
        # A transport closed meanwhile (the provider hung up) has nothing left to read, and
        # its socket is gone: the reader then meets the provider's error, as it should.
        if not transport.is_closing():
            with contextlib.suppress(OSError, ValueError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
    return True


class StreamDecoder(Protocol):
    """A provider's decoder of its stream's lines, which knows when the answer is complete."""

    finished: bool

    def line(self, line: bytes) -> list[ProviderChunk]: ...


async def decoded_chunks(
    response: httpx2.Response, decoder: StreamDecoder, window: float
) -> AsyncIterator[ProviderChunk]:
    """The chunks `decoder` makes of a streamed response, read through a `PacedReader`: the
    answer has begun with its first text or reasoning, and ended once the decoder says so."""
    reader = PacedReader(window)
    async for lines in reader.lines(response):
        for line in lines:
            for chunk in decoder.line(line):
                if isinstance(chunk, TextDelta | ReasoningDelta):
                    reader.began()
                yield chunk
        if decoder.finished:
            reader.ended()


def _aiohttp_response(response: httpx2.Response) -> Any:
    """The aiohttp response under the SDKs' aiohttp transport, if that is what carries it."""
    stream = getattr(response.stream, "_stream", response.stream)  # httpx2 binds it
    upstream = getattr(stream, "_aiohttp_response", None)
    return upstream if hasattr(upstream, "connection") else None
