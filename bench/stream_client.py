"""CPU per streamed chunk in the worker's provider clients: httpx2 vs the aiohttp transport.

`python -m bench.stream_client` starts a small SSE server in a child process (so its CPU is not
counted) that answers OpenAI chat completions and Anthropic messages with one chunk per token,
`--gap` ms apart. This process then runs `--streams` concurrent streams through the real
providers (services/worker/providers/), once per transport, interleaved round by round, and
reports this process's CPU (user+system) per chunk received: median and range over the rounds.
The providers' own decoding is included, so the figures are what a worker pays per token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from services.worker.providers.anthropic import AnthropicProvider
from services.worker.providers.base import LLMProvider, ProviderRequest, TextDelta
from services.worker.providers.http_client import Transport
from services.worker.providers.openai_compat import OpenAICompatibleProvider

TRANSPORTS: tuple[Transport, ...] = ("httpx", "aiohttp")
WIRES = ("openai", "anthropic")


def _openai_events(tokens: int) -> list[bytes]:
    def chunk(delta: dict[str, Any], usage: Any = None) -> bytes:
        body = {"id": "c", "object": "chat.completion.chunk", "model": "m", "usage": usage}
        body["choices"] = [{"index": 0, "delta": delta, "finish_reason": None}] if delta else []
        return b"data: " + orjson.dumps(body) + b"\n\n"

    usage = {"prompt_tokens": 5, "completion_tokens": tokens}
    return [chunk({"content": f"t{i} "}) for i in range(tokens)] + [
        chunk({}, usage) + b"data: [DONE]\n\n"
    ]


def _anthropic_events(tokens: int) -> list[bytes]:
    def event(kind: str, data: dict[str, Any]) -> bytes:
        return (
            b"event: "
            + kind.encode()
            + b"\ndata: "
            + orjson.dumps({"type": kind, **data})
            + b"\n\n"
        )

    message = {"id": "m", "type": "message", "role": "assistant", "content": [], "model": "m"}
    start = event("message_start", {"message": {**message, "usage": {"input_tokens": 5}}})
    block = event(
        "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
    )
    deltas = [
        event(
            "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": f"t{i} "}}
        )
        for i in range(tokens)
    ]
    end = (
        event("content_block_stop", {"index": 0})
        + event(
            "message_delta",
            {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": tokens}},
        )
        + event("message_stop", {})
    )
    return [start + block + deltas[0], *deltas[1:], end]


async def _serve_one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tokens: int, gap: float
) -> None:
    """HTTP/1.1 keep-alive: read a request, stream the answer chunked, repeat."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            events = _anthropic_events(tokens) if b"/messages" in head else _openai_events(tokens)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for i, data in enumerate(events):
                if i and gap:
                    await asyncio.sleep(gap)
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()


def _server(sock: socket.socket, tokens: int, gap: float) -> None:
    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _serve_one(r, w, tokens, gap), sock=sock, limit=1 << 20
        )
        await server.serve_forever()

    asyncio.run(main())


def _provider(wire: str, transport: Transport, url: str) -> LLMProvider:
    if wire == "anthropic":
        return AnthropicProvider(
            api_key="k", base_url=url, timeout=60.0, max_retries=0, transport=transport
        )
    return OpenAICompatibleProvider(
        api_key="k", base_url=f"{url}/v1", timeout=60.0, max_retries=0, transport=transport
    )


async def _batch(provider: LLMProvider, model: str, streams: int, tokens: int) -> float:
    """CPU µs of this process per chunk received, for `streams` concurrent streams."""
    request = ProviderRequest(model=model, messages=[{"role": "user", "content": "hi"}])

    async def one() -> int:
        got = 0
        async for chunk in provider.stream(request):
            got += isinstance(chunk, TextDelta)
        return got

    before = time.process_time()
    counts = await asyncio.gather(*(one() for _ in range(streams)))
    spent = time.process_time() - before
    if sum(counts) != streams * tokens:
        raise RuntimeError(f"expected {streams * tokens} chunks, got {sum(counts)}")
    return spent / sum(counts) * 1e6


async def run(args: argparse.Namespace, url: str) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {w: {t: [] for t in TRANSPORTS} for w in WIRES}
    providers = {(w, t): _provider(w, t, url) for w in args.wires for t in TRANSPORTS}
    model = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5"}
    try:
        for (wire, _), provider in providers.items():  # warm: connections open, code loaded
            await _batch(provider, model[wire], min(args.streams, 10), args.tokens)
        for _ in range(args.rounds):
            for (wire, transport), provider in providers.items():
                us = await _batch(provider, model[wire], args.streams, args.tokens)
                figures[wire][transport].append(us)
    finally:
        for provider in providers.values():
            await provider.aclose()
    return figures


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} ({min(values):.1f}-{max(values):.1f})"


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_client", description=__doc__)
    parser.add_argument("--streams", type=int, default=100, help="concurrent streams")
    parser.add_argument("--tokens", type=int, default=50, help="chunks per stream")
    parser.add_argument("--gap", type=float, default=10.0, help="ms between chunks")
    parser.add_argument("--rounds", type=int, default=5, help="batches per transport")
    parser.add_argument("--wires", default="openai,anthropic", help="openai,anthropic")
    args = parser.parse_args(argv)
    args.wires = [w for w in args.wires.split(",") if w in WIRES]
    sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    context = multiprocessing.get_context("spawn")
    server = context.Process(target=_server, args=(sock, args.tokens, args.gap / 1000), daemon=True)
    server.start()
    sock.close()
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            figures = runner.run(run(args, url))
    finally:
        server.terminate()
        server.join(5)
    print(
        f"{args.streams} streams x {args.tokens} chunks, {args.gap:g} ms apart, "
        f"{args.rounds} rounds, pid {os.getpid()}: client CPU µs per chunk, median (range)"
    )
    print(f"{'wire':<10} {'httpx2':>22} {'aiohttp':>22} {'ratio':>6}")
    for wire in args.wires:
        httpx_, aio = figures[wire]["httpx"], figures[wire]["aiohttp"]
        ratio = statistics.median(aio) / statistics.median(httpx_)
        print(f"{wire:<10} {_summary(httpx_):>22} {_summary(aio):>22} {ratio:>6.2f}")
    print(
        orjson.dumps(
            {"benchmark": "stream_client", "args": vars(args), "us_per_chunk": figures}
        ).decode()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
