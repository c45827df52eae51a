"""The tts HTTP app (internal): POST /synthesize, GET /engines, and the health check."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse

from services.tts import synthesis
from services.tts.context import TTSContext, tts_context
from services.tts.errors import Unauthorized, install_error_handlers
from services.tts.settings import TTSSettings
from shared import db, metrics
from shared.tts import SYNTHESIZE_PATH, SynthesizeRequest, SynthesizeResult


async def _database_up(ctx: TTSContext) -> bool:
    try:
        async with asyncio.timeout(2.0):
            await db.reachable(ctx.pool)
    except Exception:  # any failure means "not ready"; the reason is for the logs
        return False
    return True


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

    expected = hashlib.sha256(settings.token.get_secret_value().encode()).digest()

    def caller(authorization: Annotated[str, Header()] = "") -> None:
        """The workers' credential, compared in constant time; anything else is a 401."""
        scheme, _, presented = authorization.partition(" ")
        digest = hashlib.sha256(presented.encode()).digest()
        if scheme.lower() != "bearer" or not hmac.compare_digest(digest, expected):
            raise Unauthorized("This service answers only AION's workers (AION_TTS_TOKEN).")

    authorized = [Depends(caller)]

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        # What synthesis needs: the shared audio store, and PostgreSQL (settings, file records).
        ready = os.access(settings.aion_audio_dir, os.W_OK | os.X_OK) and await _database_up(
            context(request)
        )
        return JSONResponse(
            {"status": "ok" if ready else "unavailable"}, status_code=200 if ready else 503
        )

    @app.get("/metrics")
    async def get_metrics() -> Response:
        # Internal service (never published), so no token, like its other routes.
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

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
