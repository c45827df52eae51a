"""A client-side reader of the api's SSE bytes, written against the SSE spec, not our server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class SSEEvent:
    id: str | None
    event: str
    data: dict[str, Any]
    raw: str = field(repr=False, default="")

    @property
    def type(self) -> str:
        return str(self.data.get("type"))


def parse_block(block: str) -> SSEEvent | None:
    """One event block (lines up to a blank line); None for comment-only blocks."""
    event_id, event_name, data_lines = None, "message", []
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            event_id = value
        elif name == "event":
            event_name = value
        elif name == "data":
            data_lines.append(value)
    if not data_lines:
        return None
    return SSEEvent(event_id, event_name, json.loads("\n".join(data_lines)), block)


class EventBuffer:
    """Bytes as they arrive in, whole events out (chunks may split anywhere, even between the
    CR and the LF of a line end; lines may end in CRLF, LF or CR, as the spec allows)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._cr = False  # the last chunk ended in CR: a line end, maybe the first half of CRLF

    def feed(self, chunk: str) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._cr and chunk.startswith("\n"):
            chunk = chunk[1:]  # the LF of a CRLF whose CR ended the previous chunk
        self._cr = chunk.endswith("\r")
        self._buffer += chunk.replace("\r\n", "\n").replace("\r", "\n")
        return self._events()

    def _events(self) -> list[SSEEvent]:
        events = []
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            event = parse_block(block)
            if event is not None:
                events.append(event)
        return events


async def iter_events(response: httpx.Response) -> AsyncIterator[SSEEvent]:
    """Yield events as their blocks complete on the wire."""
    buffer = EventBuffer()
    async for chunk in response.aiter_text():
        for event in buffer.feed(chunk):
            yield event


def iter_events_sync(response: httpx.Response) -> Iterator[SSEEvent]:
    """`iter_events` for a blocking client."""
    buffer = EventBuffer()
    for chunk in response.iter_text():
        yield from buffer.feed(chunk)


async def collect(response: httpx.Response) -> list[SSEEvent]:
    """Every event until the terminal one (or the end of the stream)."""
    events = []
    async for event in iter_events(response):
        events.append(event)
        if event.type in ("done", "error"):
            break
    return events
