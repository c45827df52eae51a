"""The turn event schema (API.md, "Chat stream"): one model per event type.

The worker produces these, the api relays them untouched, the telegram service and the tests
consume them. Nothing else builds an event dict by hand.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


def _is_none(value: object) -> bool:
    return value is None


class Event(BaseModel):
    """Base of every turn event: immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenEvent(Event):
    type: Literal["token"] = "token"
    text: str


class ThoughtEvent(Event):
    type: Literal["thought"] = "thought"
    text: str
    trigger: str | None = Field(default=None, exclude_if=_is_none)


class ToolCallEvent(Event):
    type: Literal["tool_call"] = "tool_call"
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    call_id: str


class ToolResultEvent(Event):
    type: Literal["tool_result"] = "tool_result"
    name: str
    call_id: str
    result: Any = None
    ok: bool
    duration_ms: int


class ProgressEvent(Event):
    type: Literal["progress"] = "progress"
    call_id: str
    percent: float
    label: str = ""


class UsageEvent(Event):
    type: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int


class ApprovalEvent(Event):
    type: Literal["approval"] = "approval"
    id: str
    message: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    expires_at: str
    # Why this call waits: "a risky tool", "tool_permissions says ask", or "after reading
    # untrusted content from <tool>" when the turn read a page, a file... before asking for it.
    reason: str | None = Field(default=None, exclude_if=_is_none)


class TextBlock(Event):
    type: Literal["text"] = "text"
    content: str


class ImageBlock(Event):
    type: Literal["image"] = "image"
    url: str


class AudioBlock(Event):
    type: Literal["audio"] = "audio"
    url: str
    format: Literal["mp3", "wav", "ogg"]


ResponseBlock = Annotated[TextBlock | ImageBlock | AudioBlock, Field(discriminator="type")]


class DoneEvent(Event):
    type: Literal["done"] = "done"
    full_response: str
    response_blocks: list[ResponseBlock] = Field(default_factory=list)
    approval_pending: bool = False
    approval_id: str | None = Field(default=None, exclude_if=_is_none)
    cancelled: bool | None = Field(default=None, exclude_if=_is_none)


class ErrorEvent(Event):
    type: Literal["error"] = "error"
    message: str
    code: str


TurnEvent = Annotated[
    TokenEvent
    | ThoughtEvent
    | ToolCallEvent
    | ToolResultEvent
    | ProgressEvent
    | UsageEvent
    | ApprovalEvent
    | DoneEvent
    | ErrorEvent,
    Field(discriminator="type"),
]

TERMINAL_TYPES = frozenset({"done", "error"})

# Approval ids are 16 random bytes in hex (the worker makes them); anything else is not one.
APPROVAL_ID = re.compile(r"[0-9a-f]{32}")

_adapter: TypeAdapter[TurnEvent] = TypeAdapter(TurnEvent)


def encode(event: Event) -> str:
    """The JSON `data:` payload of an event (optional fields left out when unset)."""
    return event.model_dump_json()


def decode(data: str | bytes) -> TurnEvent:
    """Parse one event's JSON payload back into its model (clients and tests)."""
    return _adapter.validate_json(data)


class ErrorCode:
    """The `code` values an `error` event carries."""

    PROVIDER = "provider_error"
    WORKER_LOST = "worker_lost"
    NOT_ALLOWED = "not_allowed"
    INTERNAL = "internal_error"
    INTERRUPTED = "interrupted"  # the worker stopped or the turn ran past its time limit
