"""Past conversations of every channel: list and search, read, export, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from services.api import history
from services.api.deps import Authorized, DbConn
from services.api.schemas.common import CHANNEL_PATTERN, Ok, errors
from services.api.schemas.history import ConversationDetail, ConversationList

router = APIRouter(prefix="/api/conversations", dependencies=[Authorized])

ConversationId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", response_model=ConversationList, responses=errors(422))
async def list_conversations(
    conn: DbConn,
    channel: Annotated[str | None, Query(pattern=CHANNEL_PATTERN)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> ConversationList:
    return await history.list_conversations(conn, channel, search or None, limit, before)


@router.get(
    "/{conversation_id}",
    operation_id="conversation_read",
    response_model=ConversationDetail,
    responses=errors(404, 422),
)
async def read(conversation_id: ConversationId, conn: DbConn) -> ConversationDetail:
    return await history.read(conn, conversation_id)


_EXPORT = {
    "description": "a download (Content-Disposition: attachment)",
    "content": {
        "text/markdown": {"schema": {"type": "string"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/ConversationDetail"}},
    },
}


@router.get(
    "/{conversation_id}/export",
    operation_id="conversation_export",
    response_class=Response,
    responses={**errors(404, 422), 200: _EXPORT},
)
async def export(
    conversation_id: ConversationId,
    conn: DbConn,
    fmt: Annotated[history.ExportFormat, Query(alias="format")] = "md",
) -> Response:
    body, media_type, name = history.export(await history.read(conn, conversation_id), fmt)
    disposition = f'attachment; filename="{name}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.delete(
    "/{conversation_id}",
    operation_id="conversation_delete",
    response_model=Ok,
    responses=errors(404, 422),
)
async def delete(conversation_id: ConversationId, conn: DbConn) -> Ok:
    await history.delete(conn, conversation_id)
    return Ok()
