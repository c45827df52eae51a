"""The worker's small HTTP port: /healthz, /readyz for probes and /metrics for Prometheus.

It runs inside the worker's event loop (so /healthz answering means the loop is alive) on a
socket bound at start-up, so a port already in use stops the worker with a clear error.
arq owns the process's signals; uvicorn here installs none and stops when told to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from services.worker.context import WorkerContext
from shared import db, metrics

log = logging.getLogger("aion.worker.health")


async def _dependencies_ok(app: WorkerContext) -> bool:
    try:
        async with asyncio.timeout(2.0):
            await app.redis.ping()
            await db.reachable(app.pool)
        return True
    except Exception as exc:  # any failure means "not ready"; the reason is for the logs
        log.warning("not ready: %s: %s", type(exc).__name__, exc)
        return False


def create_health_app(app: WorkerContext) -> FastAPI:
    health = FastAPI(title="AION worker", docs_url=None, redoc_url=None, openapi_url=None)

    @health.get("/healthz")
    async def healthz() -> JSONResponse:
        # Heartbeat and control listener end only with the process: one that died is stuck.
        alive = all(not task.done() for task in app.background)
        return JSONResponse(
            {"status": "ok" if alive else "unavailable"}, status_code=200 if alive else 503
        )

    @health.get("/readyz")
    async def readyz() -> JSONResponse:
        if app.draining.is_set():
            return JSONResponse({"status": "draining"}, status_code=503)
        ok = await _dependencies_ok(app)
        return JSONResponse(
            {"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503
        )

    @health.get("/metrics")
    async def get_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return health


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # arq's handlers stay in place: they drain the worker on SIGTERM


class HealthServer:
    """Started in arq's on_startup, stopped in on_shutdown."""

    def __init__(self, app: WorkerContext, host: str, port: int) -> None:
        # Bound now, so a clash fails the start-up instead of a background task.
        self._socket = socket.create_server((host, port))
        config = uvicorn.Config(
            create_health_app(app),
            log_config=None,
            log_level="warning",  # no "Started server process" lines in a worker log
            access_log=False,
            lifespan="off",
        )
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None
        self.port = int(self._socket.getsockname()[1])

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve([self._socket]), name="aion-health")
        log.info("health and metrics on port %d", self.port)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._socket.close()
