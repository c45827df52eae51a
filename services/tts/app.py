"""The tts HTTP app (internal): POST /synthesize, GET /engines, and the health check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from services.tts import synthesis
from services.tts.context import TTSContext, tts_context
from services.tts.errors import install_error_handlers
from services.tts.settings import TTSSettings
from shared.tts import SYNTHESIZE_PATH, SynthesizeRequest, SynthesizeResult


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

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(SYNTHESIZE_PATH, response_model=SynthesizeResult)
    async def synthesize(body: SynthesizeRequest, request: Request) -> SynthesizeResult:
        return await synthesis.synthesize(context(request), body)

    @app.get("/engines")
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
