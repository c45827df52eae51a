"""The notices stream in the OpenAPI document, typed by shared/notices.py (their one schema)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shared.notices import AnyNotice

_REF = "#/components/schemas/{model}"


def notice_schemas() -> dict[str, Any]:
    """Component schemas: `Notice` (one of the notice models, by `type`) and each model."""
    schema = TypeAdapter(AnyNotice).json_schema(mode="serialization", ref_template=_REF)
    models = schema.pop("$defs")
    return {**models, "Notice": schema}


def notice_stream_response() -> dict[int | str, Any]:
    """`responses=` entry of `GET /api/events`."""
    kinds = sorted(notice_schemas()["Notice"]["discriminator"]["mapping"])
    event = {
        "type": "object",
        "required": ["id", "event", "data"],
        "properties": {
            "id": {"type": "string", "description": "the notice's id (send it as Last-Event-ID)"},
            "event": {"type": "string", "enum": kinds},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": _REF.format(model="Notice")},
            },
        },
    }
    return {
        200: {
            "description": (
                "Server-sent events, one per notice (`event:` its type, `data:` the notice as "
                "JSON, `id:` its id), and `: ping` comments; the stream stays open"
            ),
            "content": {"text/event-stream": {"schema": event}},
        }
    }
