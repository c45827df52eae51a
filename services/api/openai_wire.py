"""The OpenAI chat-completions wire format, as far as AION speaks it: the request it accepts and
the bodies and stream chunks it answers with (docs/API.md, "OpenAI-compatible API").

Requests ignore what AION does not use (sampling parameters, `tools`, `response_format`...): the
agent answers with the owner's settings, tools and prompts, whatever a client asks for there.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.api.schemas.chat import IMAGE_URL
from services.api.schemas.providers import MODEL_PATTERN

AION_MODEL = "aion"
MAX_IMAGES = 8  # as POST /api/chat
MAX_MESSAGE_CHARS = 32000  # the question a turn answers, as POST /api/chat

_MODEL = re.compile(MODEL_PATTERN)


def _is_none(value: object) -> bool:
    return value is None


class _Lenient(BaseModel):
    """Unknown fields are ignored, as OpenAI-compatible servers do: clients send many."""

    model_config = ConfigDict(extra="ignore")


class TextPart(_Lenient):
    type: Literal["text"]
    text: str


class ImageURL(_Lenient):
    url: str

    @field_validator("url")
    @classmethod
    def _image(cls, url: str) -> str:
        if not IMAGE_URL.match(url):
            raise ValueError("must be a data:image/...;base64 URL or an http(s) URL")
        return url


class ImagePart(_Lenient):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class InputMessage(_Lenient):
    """A message of the conversation the client sends. AION runs its own tools, so a client's
    tool traffic (`tool` messages, assistant `tool_calls`) is not taken."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None
    tool_calls: list[Any] | None = None  # refused when not empty

    @model_validator(mode="after")
    def _what_aion_takes(self) -> InputMessage:
        if self.role != "user" and self.images:
            raise ValueError("only user messages may carry images")
        if self.tool_calls:
            raise ValueError("AION runs its own tools: a client's tool calls are not taken")
        return self

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if isinstance(p, TextPart))
        return self.content or ""

    @property
    def images(self) -> list[str]:
        if not isinstance(self.content, list):
            return []
        return [p.image_url.url for p in self.content if isinstance(p, ImagePart)]

    def as_chat(self) -> dict[str, Any]:
        """The providers' chat format (a `developer` message is a system message)."""
        role = "system" if self.role == "developer" else self.role
        if isinstance(self.content, list) and self.images:
            content: str | list[dict[str, Any]] = [p.model_dump() for p in self.content]
        else:
            content = self.text
        return {"role": role, "content": content}


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionRequest(_Lenient):
    model: str = Field(min_length=1, max_length=200)
    messages: list[InputMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=256)
    n: int = Field(default=1, ge=1, le=1, description="AION answers with one choice")

    @field_validator("messages")
    @classmethod
    def _ends_with_a_question(cls, messages: list[InputMessage]) -> list[InputMessage]:
        last = messages[-1]
        if last.role != "user":
            raise ValueError("the last message must be the user's: AION answers it")
        if not last.text.strip():
            raise ValueError("the last user message must have text")
        if len(last.text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"the last user message is over {MAX_MESSAGE_CHARS} characters")
        if sum(len(m.images) for m in messages) > MAX_IMAGES:
            raise ValueError(f"at most {MAX_IMAGES} images per request")
        return messages

    def agent_model(self) -> str | Literal[False] | None:
        """The model the turn asks for: None for `aion` (the owner's choice), the part after
        `aion/`, or False when `model` names no AION model."""
        if self.model == AION_MODEL:
            return None
        prefix, sep, model = self.model.partition("/")
        if prefix == AION_MODEL and sep and _MODEL.match(model):
            return model
        return False


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.prompt_tokens += input_tokens
        self.completion_tokens += output_tokens
        self.total_tokens = self.prompt_tokens + self.completion_tokens


FinishReason = Literal["stop", "length"]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    logprobs: None = None
    finish_reason: FinishReason


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Delta(BaseModel):
    """What a chunk adds: the role in the first one, then text; empty in the last."""

    role: Literal["assistant"] | None = Field(default=None, exclude_if=_is_none)
    content: str | None = Field(default=None, exclude_if=_is_none)


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    logprobs: None = None
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` line of a stream. With `stream_options.include_usage`, every chunk has
    `usage: null` but the last, which has no choices and the whole request's usage."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "aion"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
