"""The provider protocol: stream text deltas and usage for one chat request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int


ProviderChunk = TextDelta | Usage


@dataclass(frozen=True)
class ProviderRequest:
    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider call failed; `message` is safe to show (no keys, no URLs with secrets)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LLMProvider(Protocol):
    name: str

    def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        """Yield text deltas as they arrive, then one Usage when the provider reports it."""
        ...

    async def aclose(self) -> None: ...
