"""Audio: GET /api/audio/{filename} (files the tts service made), with Range for seeking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from starlette.responses import FileResponse

from services.api import audio
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from shared.tts import MEDIA_TYPES

router = APIRouter(prefix="/api/audio", dependencies=[Authorized])


_BYTES = {"schema": {"type": "string", "format": "binary"}}
_AUDIO: dict[str, Any] = {"content": {media: _BYTES for media in sorted(set(MEDIA_TYPES.values()))}}


_RESPONSES: dict[int | str, Any] = {
    **errors(404, 416),
    200: {"description": "the audio file", **_AUDIO},
    206: {"description": "the requested range(s) (several: multipart/byteranges)", **_AUDIO},
}


@router.get("/{filename}", response_class=FileResponse, responses=_RESPONSES)
@router.head(
    "/{filename}", response_class=FileResponse, responses=_RESPONSES, operation_id="head_audio"
)
async def get_audio(
    filename: str,
    ctx: Ctx,
    conn: DbConn,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> FileResponse:
    return await audio.audio_file(ctx, conn, filename, range_header)
