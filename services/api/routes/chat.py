"""Chat turns: start one (SSE), follow or resume its events, cancel it, stop a channel's."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Path
from sse_starlette import EventSourceResponse
from sse_starlette.event import ServerSentEvent

from services.api import turns
from services.api.deps import Authorized, Ctx
from services.api.errors import AppError
from services.api.schemas.chat import ChatRequest, Stopped, StopRequest
from services.api.schemas.common import Ok, errors, links
from services.api.schemas.events import event_stream_response

router = APIRouter(prefix="/api", dependencies=[Authorized])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the turn's job id")]
_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def event_stream(ctx: Ctx, turn_id: str, last_event_id: str | None) -> EventSourceResponse:
    """A turn's events as SSE (chat, resume, and a turn continued after an approval)."""
    return EventSourceResponse(
        turns.relay_events(ctx, turn_id, last_event_id),
        headers={"X-AION-Job": turn_id, "Cache-Control": "no-cache"},
        ping=ctx.settings.aion_sse_ping_seconds,
        ping_message_factory=lambda: ServerSentEvent(comment="ping"),
    )


# What a client (or a fuzzer following links) does next with the turn it started.
_STARTED = event_stream_response()
_STARTED[200]["links"] = links(
    {"job": "$response.header.X-AION-Job"}, follow="chat_events", cancel="chat_cancel"
)


@router.post(
    "/chat", response_class=EventSourceResponse, responses={**_STARTED, **errors(body=True)}
)
async def chat(request: ChatRequest, ctx: Ctx) -> EventSourceResponse:
    turn_id = await turns.start_turn(ctx, request)
    return event_stream(ctx, turn_id, None)


@router.get(
    "/chat/{job}/events",
    operation_id="chat_events",
    response_class=EventSourceResponse,
    responses={**event_stream_response(), **errors(400, 404, 422)},
)
async def events(
    job: JobId,
    ctx: Ctx,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    if last_event_id is not None and not _EVENT_ID.match(last_event_id):
        raise AppError("Last-Event-ID must be an event id from this stream, like 1732872000000-0.")
    await turns.ensure_turn_exists(ctx, job)
    return event_stream(ctx, job, last_event_id)


@router.post(
    "/chat/{job}/cancel", operation_id="chat_cancel", response_model=Ok, responses=errors(404, 422)
)
async def cancel(job: JobId, ctx: Ctx) -> Ok:
    await turns.cancel_turn(ctx, job)
    return Ok()


@router.post("/stop", response_model=Stopped, responses=errors(body=True))
async def stop(ctx: Ctx, body: StopRequest | None = None) -> Stopped:
    """Stop the channel's running turn (the old clients' Stop button); queued ones stay."""
    return Stopped(job=await turns.stop_channel(ctx, (body or StopRequest()).channel))
