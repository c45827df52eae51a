"""Putting a finished recording into the audio store: the file first, then its record.

The file is encoded under a hidden temporary name and renamed into place, and the record is
written only once the file is complete, so the api never finds a record without its file. A
failure removes whatever was written; the worker's retention job sweeps up after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from services.tts.audio import duration_of, encode_to
from services.tts.context import TTSContext
from shared.db import audio as audio_repo
from shared.tts import AudioFormat, EngineName, SynthesizeResult, new_file_name

PART_SUFFIX = ".part"


async def store(
    ctx: TTSContext,
    pcm: bytes,
    fmt: AudioFormat,
    *,
    engine: EngineName,
    voice: str,
    channel: str | None,
    fallback: str | None,
) -> SynthesizeResult:
    audio_dir = ctx.settings.aion_audio_dir
    audio_id, file_name = new_file_name(fmt)
    part = audio_dir / f".{file_name}{PART_SUFFIX}"
    final = audio_dir / file_name
    duration = duration_of(pcm)
    try:
        await encode_to(pcm, fmt, part, ctx.settings.aion_tts_timeout_seconds)
        size = (await asyncio.to_thread(os.stat, part)).st_size
        await asyncio.to_thread(os.replace, part, final)
        async with ctx.pool.connection() as conn:
            await audio_repo.record(
                conn,
                audio_id=audio_id,
                file_name=file_name,
                fmt=fmt,
                size_bytes=size,
                duration_seconds=duration,
                engine=engine,
                voice=voice,
                channel=channel,
            )
    except BaseException:
        with contextlib.suppress(OSError):
            final.unlink(missing_ok=True)
        raise
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return SynthesizeResult(
        file=file_name,
        format=fmt,
        duration=duration,
        size=size,
        engine=engine,
        voice=voice,
        fallback=fallback,
    )
