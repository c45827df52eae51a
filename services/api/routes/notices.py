"""Live notices: `GET /api/events`, what the server starts on its own, as SSE."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse
from sse_starlette.event import ServerSentEvent

from services.api import notices
from services.api.deps import Authorized, Ctx
from services.api.schemas.common import errors
from services.api.schemas.notices import notice_stream_response

router = APIRouter(prefix="/api", dependencies=[Authorized])


@router.get(
    "/events",
    operation_id="notices",
    response_class=EventSourceResponse,
    responses={**notice_stream_response(), **errors(400)},
)
async def events(
    ctx: Ctx,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="resume after this notice; 0-0: all kept"),
    ] = None,
) -> EventSourceResponse:
    notices.check_last_event_id(last_event_id)
    after = await notices.start_after(ctx, last_event_id)
    return EventSourceResponse(
        notices.relay_notices(ctx, after),
        headers={"Cache-Control": "no-cache"},
        ping=ctx.settings.aion_sse_ping_seconds,
        ping_message_factory=lambda: ServerSentEvent(comment="ping"),
    )
