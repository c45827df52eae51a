"""The chat stream in the OpenAPI document: `text/event-stream`, one SSE event per turn event,
whose `data:` is the turn event as JSON, typed by shared/events.py (the one schema of them).

OpenAPI 3.1 has a stream's `schema` describe each event: an object of the SSE fields, as
clients (and schemathesis) read them.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shared.events import TurnEvent

_REF = "#/components/schemas/{model}"


def turn_event_schemas() -> dict[str, Any]:
    """Component schemas: `TurnEvent` (one of the event models, by `type`) and each model, as
    they are sent (old clients' names included)."""
    schema = TypeAdapter(TurnEvent).json_schema(mode="serialization", ref_template=_REF)
    models = schema.pop("$defs")
    return {**models, "TurnEvent": schema}


def _event_types() -> list[str]:
    mapping = turn_event_schemas()["TurnEvent"]["discriminator"]["mapping"]
    return sorted(mapping)


def event_stream_response() -> dict[int | str, Any]:
    """`responses=` entry for a route that answers with a turn's SSE stream."""
    event = {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "id": {"type": "string", "description": "its place in the turn's log"},
            "event": {"type": "string", "enum": _event_types()},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": _REF.format(model="TurnEvent")},
            },
        },
    }
    return {
        200: {
            "description": (
                "Server-sent events of the turn, one per turn event (`event:` its type, "
                "`data:` the event as JSON, `id:` its place in the stream; an `error` of the "
                "relay's own has no id), and `: ping` comments"
            ),
            "content": {"text/event-stream": {"schema": event}},
            "headers": {
                "X-AION-Job": {"schema": {"type": "string"}, "description": "the turn's job id"}
            },
        }
    }
