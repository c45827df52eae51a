"""The OpenAI-compatible API: GET /v1/models, POST /v1/chat/completions (docs/API.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from services.api import openai_compat
from services.api.deps import Authorized, Ctx, DbConn
from services.api.openai_wire import ChatCompletion, ChatCompletionRequest, ModelList
from services.api.schemas.common import errors

router = APIRouter(prefix="/v1", dependencies=[Authorized])

# Nobody reads it: the client left. (nginx's name for it; never sent to anyone present.)
CLIENT_CLOSED = 499


@router.get("/models", response_model=ModelList, responses=errors(openai=True))
async def models(ctx: Ctx, conn: DbConn) -> ModelList:
    return await openai_compat.models(ctx, conn)


_COMPLETION: dict[int | str, Any] = {
    200: {
        "description": "a chat.completion, or with stream: chat.completion.chunk events",
        "content": {"text/event-stream": {"schema": {"type": "object"}}},
        "headers": {"X-AION-Job": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**_COMPLETION, **errors(403, 404, body=True, openai=True)},
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, ctx: Ctx
) -> ChatCompletion | Response:
    reply = await openai_compat.start(ctx, body)
    try:
        if not body.stream:
            return await openai_compat.while_connected(
                request.receive, openai_compat.complete(ctx, reply)
            )
        first = await openai_compat.while_connected(
            request.receive, openai_compat.first_output(reply)
        )
    except openai_compat.ClientGone:
        await openai_compat.abandon(ctx, reply)
        return Response(status_code=CLIENT_CLOSED)
    return EventSourceResponse(
        openai_compat.stream(ctx, reply, first),
        headers={"X-AION-Job": reply.turn_id, "Cache-Control": "no-cache"},
        sep="\n",
        ping=ctx.settings.aion_sse_ping_seconds,
        ping_message_factory=lambda: openai_compat.sse(comment="ping"),
    )
