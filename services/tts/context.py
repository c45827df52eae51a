"""What the tts process holds for its lifetime: made in the lifespan, closed after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.tts.engines import TTSEngine, build_engines
from services.tts.engines.openai import OpenAIEngine
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
    pool = await open_pool(settings.database_url, max_size=settings.aion_db_pool_size)
    engines = build_engines(settings)
    try:
        yield TTSContext(settings, pool, engines, asyncio.Semaphore(settings.aion_tts_concurrency))
    finally:
        for engine in engines.values():
            if isinstance(engine, OpenAIEngine):
                await engine.aclose()
        await pool.close()
