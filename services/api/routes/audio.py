"""Audio: GET /api/audio/{filename} (files the tts service made), with Range for seeking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from starlette.responses import FileResponse

from services.api import audio
from services.api.deps import Authorized, Ctx, DbConn

router = APIRouter(prefix="/api/audio", dependencies=[Authorized])


@router.api_route("/{filename}", methods=["GET", "HEAD"], response_class=FileResponse)
async def get_audio(
    filename: str,
    ctx: Ctx,
    conn: DbConn,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> FileResponse:
    return await audio.audio_file(ctx, conn, filename, range_header)
