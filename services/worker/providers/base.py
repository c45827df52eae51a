"""The provider protocol: one streamed model call, in one message format for every provider.

Messages are OpenAI chat messages, the lingua franca every adapter translates from:
`{"role": "system"|"user"|"assistant"|"tool", "content": ...}`; an assistant message that asked
for tools carries `tool_calls: [{"id", "type": "function", "function": {"name", "arguments"}}]`
(arguments as a JSON string) and each result is `{"role": "tool", "tool_call_id", "content"}`.
An assistant message may also carry `reasoning_blocks: [...]` (see ReasoningBlock).
An adapter for another wire format (Anthropic, ...) translates these, so history written while
one provider was active stays valid when the owner switches to another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ThinkingLevel = Literal["off", "minimal", "standard", "deep"]


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """The model's own reasoning, where the provider streams it (sent as `thought` events)."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    """A provider's own record of a finished reasoning block (Anthropic: the thinking text with
    its signature, or a redacted block). Not shown to anyone: the agent loop keeps these, in
    order, under the assistant message's `reasoning_blocks` key, because Anthropic refuses a
    tool loop with thinking on unless the assistant message that asked for the tools carries
    them back. Adapters of other providers drop that key."""

    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the owner should know about the call itself, e.g. a failover to another model."""

    text: str
    trigger: str


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A complete tool call the model asked for (adapters assemble streamed pieces first).

    `arguments` is None when the model sent something that is not a JSON object; the raw text
    is kept so the model can be told what was wrong with it.
    """

    call_id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int  # every prompt token, cached or not
    output_tokens: int
    # Prompt tokens the provider read from its prompt cache; None when it does not say.
    cached_input_tokens: int | None = None


ProviderChunk = TextDelta | ReasoningDelta | ReasoningBlock | Notice | ToolCallRequest | Usage


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model is offered it: parameters are a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ProviderRequest:
    model: str
    messages: list[dict[str, Any]]
    tools: list[ToolSpec] = field(default_factory=list)
    thinking: ThinkingLevel = "off"
    # Models to try, in order, when `model` fails before it streamed anything. The agent loop
    # fills this only while nothing of the turn has been streamed and no tool has run.
    fallbacks: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    # Requests with the same key share a prompt prefix (one conversation): OpenAI routes them
    # to the same prompt cache (`prompt_cache_key`). Never a secret or a name.
    cache_key: str | None = None
    # Read a fast stream about once per this many seconds once it speaks (the emitter's flush
    # window: what arrives within it goes out as one event anyway); 0 reads it as it comes.
    read_window: float = 0.0


class ProviderError(Exception):
    """A provider call failed; `message` is safe to show (no keys, no URLs with secrets)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LLMProvider(Protocol):
    name: str

    def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        """Yield text and reasoning deltas as they arrive, each requested tool call once it is
        complete, and one Usage when the provider reports it."""
        ...

    async def aclose(self) -> None: ...
