"""The load generator's HTTP side: the same chat sent straight to the fake LLM or through
AION, over pools of httpx clients sized so the client itself is not what is measured."""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import orjson

from bench.overhead.common import AION, DIRECT, MODEL
from bench.overhead.streams import StreamResult, consume

LANE_STREAMS = 8  # concurrent streams per httpx client (see `open_lanes`)

Stream = Callable[[int], Awaitable[StreamResult]]


@dataclass
class Client:
    """Sends benchmark chats both ways; stream `i` always uses lane `i % len(lanes)`."""

    lanes: list[httpx.AsyncClient]
    llm_url: str
    api_url: str
    api_token: str
    tokens: int
    timeout: float
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _serial: int = 0

    def __post_init__(self) -> None:
        self.expected = "".join(f"t{i} " for i in range(self.tokens))
        self._llm_headers = {
            "Authorization": "Bearer sk-bench-not-a-real-key",
            "Content-Type": "application/json",
        }
        self._api_headers = {
            "Authorization": f"Bearer {self.api_token}",
            "Content-Type": "application/json",
        }

    def message(self, gap_ms: int) -> str:
        return f"[[tokens={self.tokens} gap={gap_ms}]] benchmark"

    def direct(self, gap_ms: int) -> Stream:
        body = orjson.dumps(
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": self.message(gap_ms)}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        url = f"{self.llm_url}/v1/chat/completions"
        return lambda index: self._one(index, DIRECT, url, body, self._llm_headers)

    def aion(self, gap_ms: int) -> Stream:
        message, url = self.message(gap_ms), f"{self.api_url}/api/chat"

        def start(index: int) -> Awaitable[StreamResult]:
            self._serial += 1
            channel = f"bench-{self.run_id}-{self._serial}"
            body = orjson.dumps({"message": message, "channel": channel})
            return self._one(index, AION, url, body, self._api_headers)

        return start

    def lane(self, index: int) -> httpx.AsyncClient:
        return self.lanes[index % len(self.lanes)]

    async def _one(
        self, index: int, kind: str, url: str, body: bytes, headers: dict[str, str]
    ) -> StreamResult:
        http = self.lane(index)
        sent = time.perf_counter()
        try:
            async with (
                asyncio.timeout(self.timeout),
                http.stream("POST", url, content=body, headers=headers) as response,
            ):
                if response.status_code != 200:
                    await response.aread()
                    return StreamResult(error=f"HTTP {response.status_code}")
                return await consume(response, sent, kind, self.expected)
        except TimeoutError:
            return StreamResult(error="timeout")
        except httpx.HTTPError as exc:
            return StreamResult(error=f"transport ({type(exc).__name__})")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return StreamResult(error=f"bad event ({type(exc).__name__})")

    async def prime(self, base_url: str, path: str, count: int) -> None:
        """Open the connections the next `count` streams will use (all at once, so each
        request gets a connection of its own)."""

        async def ping(index: int) -> None:
            with contextlib.suppress(httpx.HTTPError):
                await self.lane(index).get(f"{base_url}{path}", timeout=30.0)

        await asyncio.gather(*(ping(i) for i in range(count)))


@contextlib.asynccontextmanager
async def open_lanes(most: int, timeout: float) -> AsyncIterator[list[httpx.AsyncClient]]:
    """httpx clients for `most` concurrent streams, at most LANE_STREAMS each.

    One client for hundreds of streams would be the bottleneck itself: httpcore's pool scans
    every connection (and, per idle one, every connection again) whenever a request starts
    or ends, which is quadratic; py-spy showed it at >50 % of the client's CPU at 200 streams.
    """
    count = math.ceil(most / LANE_STREAMS)
    per_lane = 2 * math.ceil(most / count) + 2  # both origins
    limits = httpx.Limits(
        max_connections=per_lane,
        max_keepalive_connections=per_lane,
        keepalive_expiry=4.0,  # below uvicorn's 5 s, so a pooled connection is never stale
    )
    tls = ssl.create_default_context()  # plain HTTP only; built once instead of per client
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    limits=limits, timeout=httpx.Timeout(timeout), trust_env=False, verify=tls
                )
            )
            for _ in range(count)
        ]
