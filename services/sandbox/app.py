"""The sandbox HTTP app: POST /v1/run (the workers' credential), GET /healthz and /readyz.

Internal only: compose puts it on a network that only the workers share with it, k8s lets only
worker pods in. A closed connection kills the command it asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request

from services.sandbox.runner import Busy, CommandRunner
from services.sandbox.settings import SandboxSettings
from shared.http_errors import bearer_check, install_error_handlers
from shared.probes import Probes, add_probes
from shared.sandbox import RUN_PATH, CommandResult, RunRequest

_DISCONNECT_POLL_SECONDS = 0.25
_SWEEP_SECONDS = 5.0


async def _sweeper(runner: CommandRunner) -> None:
    """Strays re-parented after the last command's sweep are caught by the next idle moment."""
    while True:
        await asyncio.sleep(_SWEEP_SECONDS)
        runner.sweep_when_idle()


def create_app(settings: SandboxSettings) -> FastAPI:
    if settings.aion_sandbox_token_sha256 is None:
        raise ValueError("AION_SANDBOX_TOKEN_SHA256 is not set")
    runner = CommandRunner(
        settings.aion_workspace_dir,
        max_commands=settings.aion_sandbox_max_commands,
        max_seconds=settings.aion_sandbox_max_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweeper(runner), name="aion-sandbox-sweeper")
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    app = FastAPI(
        title="AION sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    install_error_handlers(app, service="sandbox")
    who = "AION's workers (AION_SANDBOX_TOKEN)"
    authorized = Depends(bearer_check(settings.aion_sandbox_token_sha256, who))
    # Nothing to wait for: ready as soon as it answers; no /metrics on this network.
    add_probes(app, "sandbox", Probes(metrics=False))

    @app.post(RUN_PATH, dependencies=[authorized])
    async def run(body: RunRequest, request: Request) -> CommandResult:
        try:
            runner.acquire()
        except Busy:
            raise HTTPException(429, "the sandbox runs as many commands as it allows") from None
        task = asyncio.create_task(runner.run(body.command, body.timeout_seconds))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=_DISCONNECT_POLL_SECONDS)
                if not task.done() and await request.is_disconnected():
                    # The worker gave up (its own limit, a cancelled turn): the command goes,
                    # its whole process group with it (shared/command.py).
                    task.cancel()
                    raise HTTPException(499, "the client closed the connection")
            return task.result()
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            runner.release()

    return app
