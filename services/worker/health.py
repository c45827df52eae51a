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
from fastapi import FastAPI

from services.worker.context import WorkerContext
from shared import db
from shared.probes import Probes, add_probes
from shared.serve import QuietServer

log = logging.getLogger("aion.worker.health")


def create_health_app(app: WorkerContext) -> FastAPI:
    health = FastAPI(title="AION worker", docs_url=None, redoc_url=None, openapi_url=None)
    probes = Probes(
        # Heartbeat and control listener end only with the process: one that died is stuck.
        alive=lambda _: all(not task.done() for task in app.background),
        draining=lambda _: app.draining.is_set(),
        checks=lambda _: {"Redis": app.redis.ping, "PostgreSQL": lambda: db.reachable(app.pool)},
    )
    add_probes(health, "worker", probes)
    return health


class _EmbeddedServer(QuietServer):
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
        self._server.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._socket.close()
