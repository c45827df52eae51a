"""What the tts process holds for its lifetime: made in the lifespan, closed after."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.tts.engines import TTSEngine, build_engines
from services.tts.engines.openai import OpenAIEngine
from services.tts.engines.piper import PiperEngine
from services.tts.settings import TTSSettings
from shared.db import Pool, open_pool
from shared.tts import EngineName


@dataclass(frozen=True)
class TTSContext:
    settings: TTSSettings
    pool: Pool
    engines: dict[EngineName, TTSEngine]
    slots: asyncio.Semaphore  # syntheses running at once


@asynccontextmanager
async def tts_context(settings: TTSSettings) -> AsyncIterator[TTSContext]:
    settings.aion_audio_dir.mkdir(parents=True, exist_ok=True)
    pool = await open_pool(
        settings.database_url,
        max_size=settings.aion_db_pool_size,
        wait_seconds=settings.aion_db_wait_seconds,
    )
    engines = build_engines(settings)
    piper = engines["piper"]
    # piper is the default engine: its voice loads while the service already answers.
    warming = asyncio.create_task(piper.warm()) if isinstance(piper, PiperEngine) else None
    try:
        yield TTSContext(settings, pool, engines, asyncio.Semaphore(settings.aion_tts_concurrency))
    finally:
        if warming is not None:
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming
        for engine in engines.values():
            if isinstance(engine, OpenAIEngine):
                await engine.aclose()
        await pool.close()
