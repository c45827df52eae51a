"""Audio files in the shared audio store: recorded by the tts service, served by the api,
expired by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class AudioFile:
    id: str
    file_name: str
    format: str
    size_bytes: int
    duration_seconds: float
    engine: str
    voice: str
    channel: str | None
    created_at: datetime


def _row(row: dict[str, object]) -> AudioFile:
    return AudioFile(**row)  # type: ignore[arg-type]


async def record(
    conn: Conn,
    *,
    audio_id: str,
    file_name: str,
    fmt: str,
    size_bytes: int,
    duration_seconds: float,
    engine: str,
    voice: str,
    channel: str | None,
) -> AudioFile:
    cur = await conn.execute(
        """
        INSERT INTO audio_files
            (id, file_name, format, size_bytes, duration_seconds, engine, voice, channel)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING id, file_name, format, size_bytes, duration_seconds, engine, voice, channel,
            created_at
        """,
        (audio_id, file_name, fmt, size_bytes, duration_seconds, engine, voice, channel),
    )
    row = await cur.fetchone()
    assert row is not None
    return _row(row)


async def by_file_name(conn: Conn, file_name: str) -> AudioFile | None:
    cur = await conn.execute(
        """
        SELECT id, file_name, format, size_bytes, duration_seconds, engine, voice, channel,
            created_at
        FROM audio_files WHERE file_name = %s
        """,
        (file_name,),
    )
    row = await cur.fetchone()
    return _row(row) if row else None


async def delete_older_than(conn: Conn, cutoff: datetime) -> list[str]:
    """Forget every file made before `cutoff`; returns their names for the caller to unlink."""
    cur = await conn.execute(
        "DELETE FROM audio_files WHERE created_at < %s RETURNING file_name", (cutoff,)
    )
    return [row["file_name"] async for row in cur]


async def known_names(conn: Conn, names: list[str]) -> set[str]:
    """Which of these file names have a record (the others are orphans on disk)."""
    if not names:
        return set()
    cur = await conn.execute(
        "SELECT file_name FROM audio_files WHERE file_name = ANY(%s)", (names,)
    )
    return {row["file_name"] async for row in cur}
