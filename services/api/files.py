"""The owner's files from the api's side: store an upload, have a worker read it, list, serve
the original bytes, delete.

An upload is answered only once a worker has read it (up to AION_FILE_EXTRACT_WAIT_SECONDS):
`201` with its size in characters, or `422` with why it could not be read, in which case the
file is deleted again: a refused upload leaves nothing behind. A file whose reading outlasts the
wait is answered `202` (status `pending`); it stays, and GET /api/files/{id} later shows
`ready`, or `failed` with its `error` (such a file is kept so the owner can see why).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from fastapi import UploadFile

from services.api.context import AppContext
from services.api.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from services.api.schemas.files import FilePage, FileRecord, FileUploaded
from shared import file_types
from shared.db import Conn
from shared.db import files as repo
from shared.db.files import StoredFile
from shared.jobs import (
    EXTRACT_FILE,
    JOBS_WAKE_CHANNEL,
    FileExtractionJob,
    extract_file_job_id,
    file_extracted_key,
)

log = logging.getLogger("aion.api.files")

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\"]+")


def clean_name(raw: str | None) -> str:
    """The file's own name, without any folder a client put before it or control characters."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    if len(name) > 255:  # shortened before its extension, which decides how it is read
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: 255 - len(suffix)] + suffix
    return name or "file"


def record(stored: StoredFile) -> FileRecord:
    return FileRecord(
        id=stored.id,
        name=stored.name,
        mime=stored.mime,
        size=stored.size_bytes,
        sha256=stored.sha256,
        status=stored.status,
        error=stored.error,
        chars=stored.chars,
        pages=stored.pages,
        channel=stored.channel,
        created_at=stored.created_at,
        extracted_at=stored.extracted_at,
    )


async def _read_bounded(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refused (413) past `max_bytes` without reading further."""
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than {max_bytes} bytes.")
    return content


async def upload(
    ctx: AppContext, conn: Conn, upload: UploadFile, channel: str | None
) -> tuple[FileUploaded, bool]:
    """Store the file and have a worker read it; (the answer, whether reading finished)."""
    content = await _read_bounded(upload, ctx.settings.aion_file_max_bytes)
    name = clean_name(upload.filename)
    try:
        mime = file_types.sniff(name, content[: file_types.SNIFF_BYTES])
    except file_types.UnsupportedFile as exc:
        raise UnsupportedMediaType(str(exc)) from exc
    stored = await repo.create(
        conn,
        file_id=secrets.token_urlsafe(16),
        name=name,
        mime=mime,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        channel=channel,
    )
    del content
    await _enqueue(ctx, stored.id)
    await ctx.redis.blpop(
        [file_extracted_key(stored.id)], timeout=ctx.settings.aion_file_extract_wait_seconds
    )
    latest = await repo.get(conn, stored.id) or stored
    if latest.status == "failed":
        await repo.delete(conn, stored.id)
        raise Unprocessable(f"'{name}' could not be read: {latest.error}")
    answer = FileUploaded(
        id=latest.id,
        name=latest.name,
        mime=latest.mime,
        size=latest.size_bytes,
        status="ready" if latest.status == "ready" else "pending",
        chars=latest.chars,
        pages=latest.pages,
    )
    log.info("file stored", extra={"file_id": latest.id, "status": latest.status})
    return answer, latest.status == "ready"


async def _enqueue(ctx: AppContext, file_id: str) -> None:
    job = FileExtractionJob(file_id=file_id)
    await ctx.redis.enqueue_job(
        EXTRACT_FILE, job.model_dump(), _job_id=extract_file_job_id(file_id)
    )
    await ctx.redis.publish(JOBS_WAKE_CHANNEL, b"1")


async def page(conn: Conn, *, limit: int, offset: int) -> FilePage:
    found, total = await repo.newest(conn, limit=limit, offset=offset)
    return FilePage(files=[record(f) for f in found], total=total)


async def one(conn: Conn, file_id: str) -> FileRecord:
    stored = await repo.get(conn, file_id)
    if stored is None:
        raise NotFound(f"No file '{file_id}'.")
    return record(stored)


async def content(conn: Conn, file_id: str) -> tuple[StoredFile, bytes]:
    found = await repo.get_content(conn, file_id)
    if found is None:
        raise NotFound(f"No file '{file_id}'.")
    return found


def download_headers(stored: StoredFile) -> dict[str, str]:
    """Always a download, never rendered in the api's origin: an uploaded HTML page must not
    run as the console."""
    fallback = stored.name.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(stored.name)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }


async def delete(conn: Conn, file_id: str) -> None:
    if not await repo.delete(conn, file_id):
        raise NotFound(f"No file '{file_id}'.")


async def check_attachable(ctx: AppContext, file_ids: list[str]) -> None:
    """A chat message's files must exist and have been read (422 naming the first that is
    not). A connection of its own: the chat route holds none while it streams."""
    async with ctx.pool.connection() as conn:
        known = await repo.statuses(conn, file_ids)
    for index, file_id in enumerate(file_ids):
        status = known.get(file_id)
        if status is None:
            raise Unprocessable(f"files[{index}]: there is no file '{file_id}'.")
        if status != "ready":
            state = "is still being read" if status == "pending" else "could not be read"
            raise Unprocessable(f"files[{index}]: file '{file_id}' {state}.")
