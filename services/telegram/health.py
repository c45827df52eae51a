"""The health server: liveness for compose/k8s, plus whether the bot is polling Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI


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

    return app
