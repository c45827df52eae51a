"""Serving the audio AION made: only names on record, only regular files in the audio store.

A name is checked against the pattern before anything else and then looked up in
PostgreSQL; the path opened is built from the stored name, never from the request, so `..`,
encoded slashes, absolute paths and NUL bytes never reach the file system.
"""

from __future__ import annotations

import asyncio
import os
import stat

from starlette.responses import FileResponse, MalformedRangeHeader
from starlette.responses import RangeNotSatisfiable as StarletteRangeNotSatisfiable

from services.api.context import AppContext
from services.api.errors import NotFound, RangeNotSatisfiable
from shared.db import Conn
from shared.db import audio as audio_repo
from shared.tts import AUDIO_FILE_NAME, MEDIA_TYPES

# The files never change once written: a player may keep them as long as it likes.
_HEADERS = {
    "Cache-Control": "private, max-age=86400, immutable",
    "X-Content-Type-Options": "nosniff",
}


async def audio_file(
    ctx: AppContext, conn: Conn, filename: str, range_header: str | None
) -> FileResponse:
    if not AUDIO_FILE_NAME.fullmatch(filename):
        raise NotFound("No such audio file.")
    record = await audio_repo.by_file_name(conn, filename)
    if record is None:
        raise NotFound("No such audio file.")
    path = ctx.settings.aion_audio_dir / record.file_name
    try:
        info = await asyncio.to_thread(os.lstat, path)
    except FileNotFoundError:
        raise NotFound("That audio file has expired.") from None
    if not stat.S_ISREG(info.st_mode):  # a symlink or anything else planted there is not ours
        raise NotFound("No such audio file.")
    if range_header is not None:
        _check_range(range_header, info.st_size)
    extension = record.file_name.rsplit(".", 1)[1]
    return FileResponse(path, media_type=MEDIA_TYPES[extension], stat_result=info, headers=_HEADERS)


def _check_range(header: str, size: int) -> None:
    """Starlette serves ranges (206, multipart); bad ones get our error shape and a 416."""
    try:
        FileResponse._parse_range_header(header, size)
    except (MalformedRangeHeader, StarletteRangeNotSatisfiable):
        raise RangeNotSatisfiable(
            f"Range '{header[:100]}' does not fit a file of {size} bytes.",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
