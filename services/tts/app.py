"""The tts HTTP app: probes and metrics for now; synthesis routes join it with the TTS issue."""

from __future__ import annotations

import os

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from services.tts.settings import TTSSettings
from shared import metrics


def create_app(settings: TTSSettings | None = None) -> FastAPI:
    """Build the app around its settings (read once at start)."""
    settings = settings or TTSSettings()
    app = FastAPI(title="AION tts", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        # tts needs no database or Redis: its one dependency is the shared audio store.
        ready = os.access(settings.aion_audio_dir, os.W_OK | os.X_OK)
        return JSONResponse(
            {"status": "ok" if ready else "unavailable"}, status_code=200 if ready else 503
        )

    @app.get("/metrics")
    async def get_metrics() -> Response:
        # Internal service (never published), so no token, like its other routes.
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return app
