"""The health server: liveness for compose/k8s, whether the bot polls Telegram, /metrics."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Response

from shared import metrics


@dataclass
class PollerState:
    """What the bot reports about itself; the bot flips `polling_active` once it polls."""

    polling_active: bool = False


def create_health_app(state: PollerState) -> FastAPI:
    """Build the health app around the state object the bot updates."""
    app = FastAPI(title="AION telegram health", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str | bool]:
        return {"status": "ok", "polling_active": state.polling_active}

    @app.get("/metrics")
    async def get_metrics() -> Response:
        # Cluster-internal port; the process metrics for now, bot metrics with the bot.
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return app
