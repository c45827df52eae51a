"""The turn event schema (API.md, "Chat stream"): one model per event type.

The worker produces these, the api relays them untouched, the telegram service and the tests
consume them. Nothing else builds an event dict by hand.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, computed_field, model_validator


def _is_none(value: object) -> bool:
    return value is None


class Event(BaseModel):
    """Base of every turn event: immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _WithOldNames(Event):
    """An event that also carries names the clients of the system we replace read (API.md,
    "kept for old clients"): computed fields, derived from ours and sent with the event; a
    decoded event accepts them back and drops them, so nothing is stored twice."""

    @model_validator(mode="before")
    @classmethod
    def _drop_old_names(cls, data: Any) -> Any:
        old_names = cls.__pydantic_decorators__.computed_fields
        if isinstance(data, dict) and not old_names.keys().isdisjoint(data):
            return {key: value for key, value in data.items() if key not in old_names}
        return data


class TokenEvent(_WithOldNames):
    type: Literal["token"] = "token"
    text: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content(self) -> str:
        """`text`, under the old clients' name."""
        return self.text


class ThoughtEvent(Event):
    type: Literal["thought"] = "thought"
    text: str
    trigger: str | None = Field(default=None, exclude_if=_is_none)


class ToolCallEvent(_WithOldNames):
    type: Literal["tool_call"] = "tool_call"
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    call_id: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tool(self) -> str:
        """`name`, under the old clients' name."""
        return self.name


class ToolResultEvent(_WithOldNames):
    type: Literal["tool_result"] = "tool_result"
    name: str
    call_id: str
    result: Any = None
    ok: bool
    duration_ms: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tool(self) -> str:
        """`name`, under the old clients' name."""
        return self.name


class ProgressEvent(Event):
    type: Literal["progress"] = "progress"
    call_id: str
    percent: float
    label: str = ""


class UsageEvent(Event):
    type: Literal["usage"] = "usage"
    input_tokens: int  # every prompt token of the model call, cached or not
    output_tokens: int
    # Of `input_tokens`, those the provider read from its prompt cache (where it says).
    cached_input_tokens: int | None = Field(default=None, exclude_if=_is_none)


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


def approval_text(said: str, message: str) -> str:
    """The text an approval's question adds to a turn that said `said` so far."""
    return f"\n\n{message}" if said else message


def without_approval(full_response: str, approval: ApprovalEvent) -> str:
    """`full_response` without the question its approval added (for clients that ask with
    buttons or by voice instead)."""
    return full_response.removesuffix(approval.message).rstrip()


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
