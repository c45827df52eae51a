"""Reading one streamed answer: SSE blocks of either path turned into a `StreamResult`.

Parsing is done by hand on raw bytes (no SSE library) so the client's own CPU, which is
measured too, stays small and comparable for both paths.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
import orjson

from bench.overhead.common import DIRECT

_BLOCK_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_TOKEN = re.compile(r"t\d+ ")


@dataclass(slots=True)
class StreamResult:
    """What one chat delivered: seconds to the first token text, model tokens, any error."""

    ttft: float | None = None
    tokens: int = 0
    error: str | None = None


def _fields(block: bytes) -> tuple[bytes, bytes]:
    """The `event` name and joined `data` of one SSE block (comments and ids ignored)."""
    event, data = b"message", []
    for line in block.splitlines():
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            event = line[6:].strip()
    return event, b"\n".join(data)


def _direct_text(data: bytes) -> tuple[str | None, bool]:
    """(content delta, finished) of one OpenAI stream chunk."""
    if data == b"[DONE]":
        return None, True
    choices = orjson.loads(data).get("choices")
    if not choices:
        return None, False
    content = choices[0].get("delta", {}).get("content")
    return content or None, False


def _aion_text(event: bytes, data: bytes) -> tuple[str | None, bool, str | None]:
    """(token text, finished, error) of one AION chat event."""
    if event == b"token":
        return orjson.loads(data)["text"] or None, False, None
    if event == b"done":
        return None, True, None
    if event == b"error":
        error = orjson.loads(data)
        return None, True, f"stream error ({error.get('code')}: {str(error.get('message'))[:80]})"
    return None, False, None


async def consume(response: httpx.Response, sent: float, kind: str, expected: str) -> StreamResult:
    """Read an SSE response to its end; the first token text stamps the TTFT."""
    result = StreamResult()
    parts: list[str] = []
    buffer = b""
    finished = False
    async for chunk in response.aiter_raw():
        if finished:
            continue  # drain the rest so the connection can be reused
        buffer += chunk
        start = 0
        for match in _BLOCK_END.finditer(buffer):
            event, data = _fields(buffer[start : match.start()])
            start = match.end()
            if not data:
                continue
            if kind == DIRECT:
                text, finished = _direct_text(data)
            else:
                text, finished, result.error = _aion_text(event, data)
            if text:
                if result.ttft is None:
                    result.ttft = time.perf_counter() - sent
                parts.append(text)
            if finished:
                break
        buffer = buffer[start:]
    received = "".join(parts)
    result.tokens = len(_TOKEN.findall(received))
    if result.error is None:
        if not finished:
            result.error = "stream ended early"
        elif received != expected:
            result.error = "missing tokens"
    return result
