"""The audio retention cron: audio older than `audio_retention_hours` leaves disk and DB.

Records go first (so the api stops serving them), then their files. Files with no record
that are past the cutoff too (a tts crash between writing and recording, or ours between
forgetting and deleting) are swept up as well; nothing but audio names is ever touched.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.worker.context import WorkerContext
from shared.db import Pool
from shared.db import audio as audio_repo
from shared.tts import AUDIO_FILE_NAME

log = logging.getLogger("aion.worker.audio")

# What the tts service leaves while it writes: ".<file name>.part".
_PART_FILE = re.compile(r"^\.([A-Za-z0-9_-]{8,64}\.(mp3|wav|ogg|opus))\.part$")


async def cleanup_audio(ctx: dict[str, Any]) -> int:
    """arq cron entry point; returns how many files were removed."""
    app: WorkerContext = ctx["aion"]
    hours = (await app.owner_config.get()).owner_settings.audio_retention_hours
    return await remove_expired_audio(app.pool, app.settings.aion_audio_dir, hours)


async def remove_expired_audio(pool: Pool, audio_dir: Path, hours: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(hours=hours)
    async with pool.connection() as conn:
        expired = await audio_repo.delete_older_than(conn, cutoff)
    removed = await asyncio.to_thread(_unlink_all, audio_dir, expired)
    stale = await asyncio.to_thread(_old_audio_files, audio_dir, cutoff.timestamp())
    if stale:
        async with pool.connection() as conn:
            known = await audio_repo.known_names(conn, sorted(set(stale.values())))
        orphans = [entry for entry, name in stale.items() if entry != name or name not in known]
        removed += await asyncio.to_thread(_unlink_all, audio_dir, orphans)
    if removed:
        log.info("removed %d audio files older than %d hours", removed, hours)
    return removed


def _old_audio_files(audio_dir: Path, cutoff: float) -> dict[str, str]:
    """Audio and part files last written before cutoff: folder entry → the audio file name it
    stands for (a part file is an orphan whatever the records say)."""
    found: dict[str, str] = {}
    try:
        entries = list(os.scandir(audio_dir))
    except FileNotFoundError:
        return found
    for entry in entries:
        part = _PART_FILE.match(entry.name)
        name = part.group(1) if part else entry.name
        if not (part or AUDIO_FILE_NAME.fullmatch(entry.name)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                found[entry.name] = name
        except FileNotFoundError:
            continue
    return found


def _unlink_all(audio_dir: Path, names: list[str]) -> int:
    removed = 0
    for name in names:
        try:
            (audio_dir / name).unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove audio file %s: %s", name, exc)
    return removed
