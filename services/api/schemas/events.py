"""The chat stream in the OpenAPI document: `text/event-stream`, whose `data:` lines are the
turn events of shared/events.py (API.md, "Chat stream")."""

from __future__ import annotations

from typing import Any


def event_stream_response() -> dict[int | str, Any]:
    """`responses=` entry for a route that answers with a turn's SSE stream."""
    return {
        200: {
            "description": (
                "Server-sent events of the turn; each `data:` line is one turn event as JSON, "
                "`event:` its type, `id:` its place in the stream."
            ),
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "headers": {
                "X-AION-Job": {"schema": {"type": "string"}, "description": "the turn's job id"}
            },
        }
    }
