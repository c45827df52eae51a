"""The tts HTTP app (internal): POST /synthesize, GET /engines, and the probes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request

from services.tts import synthesis
from services.tts.context import TTSContext, tts_context
from services.tts.errors import install_error_handlers
from services.tts.settings import TTSSettings
from shared import db
from shared.http_errors import bearer_check
from shared.probes import Check, Probes, add_probes
from shared.tts import SYNTHESIZE_PATH, SynthesizeRequest, SynthesizeResult


def _writable(folder: Path) -> Check:
    async def check() -> None:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(f"{folder} is not writable")

    return check


def create_app(settings: TTSSettings | None = None) -> FastAPI:
    settings = settings or TTSSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with tts_context(settings) as context:
            app.state.context = context
            yield

    app = FastAPI(
        title="AION tts", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    install_error_handlers(app)

    def context(request: Request) -> TTSContext:
        ctx: TTSContext = request.app.state.context
        return ctx

    expected = hashlib.sha256(settings.token.get_secret_value().encode()).hexdigest()
    authorized = [Depends(bearer_check(expected, "AION's workers (AION_TTS_TOKEN)"))]

    def readiness(request: Request) -> Mapping[str, Check]:
        # What synthesis needs: the shared audio store, and PostgreSQL (settings, file records).
        return {
            "audio store": _writable(Path(settings.aion_audio_dir)),
            "PostgreSQL": lambda: db.reachable(context(request).pool),
        }

    add_probes(app, "tts", Probes(checks=readiness))

    @app.post(SYNTHESIZE_PATH, response_model=SynthesizeResult, dependencies=authorized)
    async def synthesize(body: SynthesizeRequest, request: Request) -> SynthesizeResult:
        return await synthesis.synthesize(context(request), body)

    @app.get("/engines", dependencies=authorized)
    async def engines(request: Request) -> dict[str, Any]:
        """Which engines can speak here, and why the others cannot."""
        return {
            "engines": [
                {
                    "name": name,
                    "available": engine.unavailable_reason() is None,
                    "reason": engine.unavailable_reason(),
                    "default_voice": engine.default_voice,
                }
                for name, engine in context(request).engines.items()
            ]
        }

    return app
