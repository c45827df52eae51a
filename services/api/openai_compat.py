"""AION as an OpenAI-compatible model: a chat completion is a turn like any other.

The request becomes a `TurnJob` carrying the client's conversation (used instead of the
channel's stored history) with approvals off (the client has no way to answer one), queued to
the workers as POST /api/chat does; its events are followed from Redis and translated: `token`
into content, `usage` summed into `usage`, `done` into `finish_reason: "stop"`, `error` into an
OpenAI error (an HTTP status while nothing was sent yet, an error chunk after). Thoughts, tool
calls and their results are never content. A client that hangs up cancels its turn: it cannot
come back for the rest.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import anyio
import orjson
from sse_starlette.event import ServerSentEvent
from starlette.types import Receive

from services.api import turns
from services.api.context import AppContext
from services.api.errors import (
    AppError,
    BadGateway,
    Forbidden,
    InternalError,
    NotFound,
    ServiceUnavailable,
)
from services.api.openai_errors import openai_error
from services.api.openai_wire import (
    AION_MODEL,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    ModelCard,
    ModelList,
    Usage,
)
from services.api.providers import listing
from shared.db import Conn
from shared.events import DoneEvent, ErrorCode, ErrorEvent, TokenEvent, UsageEvent, decode
from shared.jobs import ClientMessage, TurnJob
from shared.turn_keys import StoredEvent

log = logging.getLogger("aion.api.openai")

OPENAI_CHANNEL = "openai"
_NOT_IN_CHANNEL = re.compile(r"[^A-Za-z0-9_.:@\-]+")
_ERRORS: dict[str, type[AppError]] = {
    ErrorCode.NOT_ALLOWED: Forbidden,
    ErrorCode.PROVIDER: BadGateway,
    ErrorCode.INTERRUPTED: ServiceUnavailable,
    ErrorCode.WORKER_LOST: ServiceUnavailable,
}
T = TypeVar("T")


class ClientGone(Exception):
    """The client hung up before the answer was ready."""


def channel_for(user: str | None) -> str:
    """`openai`, or `openai:<user>` with `user` cut to what a channel name may hold. Prefixed,
    so a client naming itself `web` cannot land in another client's conversation."""
    name = _NOT_IN_CHANNEL.sub("-", user or "").strip("-.:@_")[:120]
    return f"{OPENAI_CHANNEL}:{name}" if name else OPENAI_CHANNEL


def job_for(body: ChatCompletionRequest, model: str | None) -> TurnJob:
    """The turn: the last message is the question, the ones before it the conversation."""
    *earlier, question = body.messages
    said = [m for m in earlier if m.text.strip() or m.images]  # an empty message says nothing
    conversation = [ClientMessage.model_validate(m.as_chat()) for m in said]
    return TurnJob(
        turn_id=turns.new_turn_id(),
        channel=channel_for(body.user),
        message=question.text,
        images=question.images,
        model=model,
        conversation=conversation,
        approvals=False,
        enqueued_at_ms=turns.now_ms(),
    )


@dataclass
class Reply:
    """One request's turn, followed from its event log."""

    turn_id: str
    model: str  # as the client named it
    events: AsyncGenerator[StoredEvent, None]
    include_usage: bool = False
    created: int = field(default_factory=lambda: int(time.time()))
    usage: Usage = field(default_factory=Usage)
    parts: list[str] = field(default_factory=list)
    ended: bool = False  # its turn reached `done` or `error`

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.turn_id}"

    async def next_output(self) -> TokenEvent | DoneEvent | ErrorEvent:
        """The next event that says something to the client; usage is summed on the way, the
        rest (thoughts, tool activity) passed over."""
        async for stored in self.events:
            event = decode(stored.data)
            if isinstance(event, UsageEvent):
                self.usage.add(event.input_tokens, event.output_tokens)
            elif isinstance(event, TokenEvent | DoneEvent | ErrorEvent):
                self.ended = isinstance(event, DoneEvent | ErrorEvent)
                if isinstance(event, TokenEvent):
                    self.parts.append(event.text)
                return event
        self.ended = True  # the relay ends only after a terminal event
        return ErrorEvent(message="The turn's events ended early.", code=ErrorCode.INTERNAL)


async def start(ctx: AppContext, body: ChatCompletionRequest) -> Reply:
    """Queue the request's turn and subscribe to its events."""
    model = body.agent_model()
    if model is False:
        raise NotFound(
            f"The model '{body.model}' does not exist: use '{AION_MODEL}' or "
            f"'{AION_MODEL}/<model>'.",
            param="model",
            code="model_not_found",
        )
    job = job_for(body, model)
    await turns.enqueue_turn(ctx, job)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return Reply(job.turn_id, body.model, turns.follow_turn(ctx, job.turn_id, None), include_usage)


def as_app_error(event: ErrorEvent) -> AppError:
    return _ERRORS.get(event.code, InternalError)(event.message, code=event.code)


async def while_connected(receive: Receive, work: Awaitable[T]) -> T:
    """`work`, unless the client hangs up first: then it is cancelled and ClientGone raised.
    Only for a request whose body was read (what `receive` gives next is the disconnect)."""

    async def hang_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    working = asyncio.ensure_future(work)
    watching = asyncio.ensure_future(hang_up())
    try:
        await asyncio.wait((working, watching), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watching, working):
            if not task.done():
                task.cancel()
        await asyncio.wait((working, watching))  # both settled: nothing left running
    if working.cancelled():
        raise ClientGone
    return working.result()


async def abandon(ctx: AppContext, reply: Reply) -> None:
    """Stop the turn of a client that left (its answer would reach nobody), and the relay."""
    with anyio.CancelScope(shield=True):
        await reply.events.aclose()
        if not reply.ended:
            log.info("client left; cancelling its turn", extra={"turn_id": reply.turn_id})
            await turns.cancel_turn(ctx, reply.turn_id)


async def complete(ctx: AppContext, reply: Reply) -> ChatCompletion:
    """The whole answer, once the turn is done."""
    async with aclosing(reply.events):
        event = await reply.next_output()
        while isinstance(event, TokenEvent):
            event = await reply.next_output()
    if isinstance(event, ErrorEvent):
        raise as_app_error(event)
    text = event.full_response or "".join(reply.parts)
    return ChatCompletion(
        id=reply.id,
        created=reply.created,
        model=reply.model,
        choices=[Choice(message=AssistantMessage(content=text), finish_reason="stop")],
        usage=reply.usage,
    )


async def first_output(reply: Reply) -> TokenEvent | DoneEvent:
    """Wait for the turn's first word (or its end) before any byte is sent, so an error that
    comes first is answered with its HTTP status rather than inside a stream."""
    event = await reply.next_output()
    if isinstance(event, ErrorEvent):
        await reply.events.aclose()
        raise as_app_error(event)
    return event


async def stream(
    ctx: AppContext, reply: Reply, first: TokenEvent | DoneEvent
) -> AsyncIterator[ServerSentEvent]:
    """The answer as `chat.completion.chunk`s, then `[DONE]`; an error after the first chunk
    comes as an error chunk, and the stream ends there."""
    try:
        event: TokenEvent | DoneEvent | ErrorEvent = first
        role: Literal["assistant"] | None = "assistant"  # said in the first chunk only
        while isinstance(event, TokenEvent):
            yield _chunk(reply, Delta(role=role, content=event.text))
            role = None
            event = await reply.next_output()
        if isinstance(event, ErrorEvent):
            error = as_app_error(event)
            body = openai_error(error.status, error.detail, code=error.code)
            yield sse(orjson.dumps(body).decode())
            return
        yield _chunk(reply, Delta(role=role), finish="stop")
        if reply.include_usage:
            last = ChatCompletionChunk(
                id=reply.id, created=reply.created, model=reply.model, choices=[], usage=reply.usage
            )
            yield sse(last.model_dump_json())
        yield sse("[DONE]")
    finally:
        await abandon(ctx, reply)


def _chunk(reply: Reply, delta: Delta, finish: FinishReason | None = None) -> ServerSentEvent:
    chunk = ChatCompletionChunk(
        id=reply.id,
        created=reply.created,
        model=reply.model,
        choices=[ChunkChoice(delta=delta, finish_reason=finish)],
    )
    # Every chunk but the last has `usage: null`, and only when the client asked for usage.
    dumped = chunk.model_dump_json(exclude=None if reply.include_usage else {"usage"})
    return sse(dumped)


def sse(data: str | None = None, comment: str | None = None) -> ServerSentEvent:
    """A `data:` line (or a comment), ended by a blank line with plain LFs as OpenAI's are."""
    return ServerSentEvent(data=data, comment=comment, sep="\n")


async def models(ctx: AppContext, conn: Conn) -> ModelList:
    """`aion`, then `aion/<model>` for every model of a configured provider."""
    created = int(time.time() - (time.monotonic() - ctx.started_at))  # when this api started
    found = await listing(ctx, conn)
    names = [m for p in found.providers if p.configured for m in p.models]
    cards = [ModelCard(id=AION_MODEL, created=created)]
    cards += [ModelCard(id=f"{AION_MODEL}/{m}", created=created) for m in dict.fromkeys(names)]
    return ModelList(data=cards)
