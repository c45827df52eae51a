"""The tts HTTP app; for now only the health check that compose and k8s probe."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    """Build the app; synthesis routes join it with the TTS issue."""
    app = FastAPI(title="AION tts", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
