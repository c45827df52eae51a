"""The owner's files: the original bytes and the text a worker extracted (migration 0015).

`segments` keeps where each piece of text came from, in reading order:
[{"text": "...", "page": 3 | None, "heading": "..." | None}, ...]; `text` is their texts joined
with a blank line. Everything but `create` and `content` leaves the bytes in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb

from shared.db import Conn

Status = Literal["pending", "ready", "failed"]

_COLUMNS = sql.SQL(
    """id, name, mime, size_bytes, sha256, status, error, chars, pages, channel,
    created_at, extracted_at"""
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file's record, without its bytes or text."""

    id: str
    name: str
    mime: str
    size_bytes: int
    sha256: str
    status: Status
    error: str | None
    chars: int | None
    pages: int | None
    channel: str | None
    created_at: datetime
    extracted_at: datetime | None


@dataclass(frozen=True, slots=True)
class FileText:
    """What a file says: its name, its text and where each piece came from."""

    id: str
    name: str
    status: Status
    text: str
    segments: list[dict[str, Any]]
    pages: int | None


def _record(row: dict[str, Any]) -> StoredFile:
    return StoredFile(**row)


async def create(
    conn: Conn,
    *,
    file_id: str,
    name: str,
    mime: str,
    content: bytes,
    sha256: str,
    channel: str | None,
) -> StoredFile:
    """A new file, `pending` until a worker has read it."""
    cur = await conn.execute(
        sql.SQL("""
        INSERT INTO files (id, name, mime, size_bytes, sha256, content, channel)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        RETURNING {columns}
        """).format(columns=_COLUMNS),
        (file_id, name, mime, len(content), sha256, content, channel),
    )
    row = await cur.fetchone()
    assert row is not None
    return _record(row)


async def get(conn: Conn, file_id: str) -> StoredFile | None:
    cur = await conn.execute(
        sql.SQL("SELECT {columns} FROM files WHERE id = %s").format(columns=_COLUMNS), (file_id,)
    )
    row = await cur.fetchone()
    return _record(row) if row else None


async def get_content(conn: Conn, file_id: str) -> tuple[StoredFile, bytes] | None:
    """The record and the original bytes."""
    cur = await conn.execute(
        sql.SQL("SELECT {columns}, content FROM files WHERE id = %s").format(columns=_COLUMNS),
        (file_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    content = bytes(row.pop("content"))
    return _record(row), content


async def get_texts(conn: Conn, file_ids: list[str]) -> list[FileText]:
    """The extracted text of these files, in the order asked (unknown ids are left out)."""
    cur = await conn.execute(
        """
        SELECT id, name, status, coalesce(text, '') AS text,
            coalesce(segments, '[]'::jsonb) AS segments, pages
        FROM files WHERE id = ANY(%s)
        """,
        (file_ids,),
    )
    found = {row["id"]: FileText(**row) async for row in cur}
    return [found[i] for i in file_ids if i in found]


async def statuses(conn: Conn, file_ids: list[str]) -> dict[str, Status]:
    """Each known id's status (a chat message's attachments are checked with this)."""
    cur = await conn.execute("SELECT id, status FROM files WHERE id = ANY(%s)", (file_ids,))
    return {row["id"]: row["status"] async for row in cur}


async def newest(conn: Conn, *, limit: int, offset: int) -> tuple[list[StoredFile], int]:
    """A page of files, newest first, and how many there are in all."""
    cur = await conn.execute(
        sql.SQL("""
        SELECT {columns}, count(*) OVER () AS total FROM files
        ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s
        """).format(columns=_COLUMNS),
        (limit, offset),
    )
    rows = await cur.fetchall()
    if rows:
        total = int(rows[0]["total"])
    else:
        cur = await conn.execute("SELECT count(*) AS total FROM files")
        counted = await cur.fetchone()
        total = int(counted["total"]) if counted else 0
    files = []
    for row in rows:
        row.pop("total")
        files.append(_record(row))
    return files, total


async def delete(conn: Conn, file_id: str) -> bool:
    cur = await conn.execute("DELETE FROM files WHERE id = %s", (file_id,))
    return cur.rowcount > 0


async def mark_extracted(
    conn: Conn, file_id: str, *, segments: list[dict[str, Any]], pages: int | None
) -> StoredFile | None:
    """Store what a worker read: `text` is the segments' texts joined with a blank line."""
    text = "\n\n".join(str(s["text"]) for s in segments)
    cur = await conn.execute(
        sql.SQL("""
        UPDATE files SET status = 'ready', error = NULL, text = %s, segments = %s,
            chars = %s, pages = %s, extracted_at = now()
        WHERE id = %s
        RETURNING {columns}
        """).format(columns=_COLUMNS),
        (text, Jsonb(segments), len(text), pages, file_id),
    )
    row = await cur.fetchone()
    return _record(row) if row else None


async def mark_failed(conn: Conn, file_id: str, error: str) -> StoredFile | None:
    """Why a worker could not read the file; no half-read text is kept."""
    cur = await conn.execute(
        sql.SQL("""
        UPDATE files SET status = 'failed', error = %s, text = NULL, segments = NULL,
            chars = NULL, pages = NULL, extracted_at = now()
        WHERE id = %s
        RETURNING {columns}
        """).format(columns=_COLUMNS),
        (error, file_id),
    )
    row = await cur.fetchone()
    return _record(row) if row else None


async def content_for_extraction(conn: Conn, file_id: str) -> tuple[str, str, bytes] | None:
    """(name, mime, bytes) of a file a worker is to read."""
    cur = await conn.execute("SELECT name, mime, content FROM files WHERE id = %s", (file_id,))
    row = await cur.fetchone()
    return (row["name"], row["mime"], bytes(row["content"])) if row else None
