"""The sandbox HTTP app: POST /v1/run and the /v1/program WebSocket (both with the workers'
credential), GET /healthz and /readyz.

Internal only: compose puts it on a network that only the workers share with it, k8s lets only
worker pods in. A closed connection kills the command or program it asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket

from services.sandbox.programs import serve_program
from services.sandbox.runner import Busy, CommandRunner
from services.sandbox.settings import SandboxSettings
from shared.http_errors import bearer_check, bearer_matches, install_error_handlers, render_error
from shared.probes import Probes, add_probes
from shared.sandbox import BAD_MESSAGE, PROGRAM_PATH, RUN_PATH, CommandResult, RunRequest

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
        max_programs=settings.aion_sandbox_max_servers,
    )
    digest = settings.aion_sandbox_token_sha256

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweeper(runner), name="aion-sandbox-sweeper")
        yield
        runner.kill_programs()
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    app = FastAPI(
        title="AION sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    install_error_handlers(app, service="sandbox")
    who = "AION's workers (AION_SANDBOX_TOKEN)"
    authorized = Depends(bearer_check(digest, who))
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

    @app.websocket(PROGRAM_PATH)
    async def program(websocket: WebSocket) -> None:
        # Refused before the handshake completes, with the HTTP status /v1/run would give.
        if not bearer_matches(websocket.headers.get("authorization"), digest):
            await _deny(websocket, 401, "Unauthorized", f"This service answers only {who}.")
            return
        try:
            runner.acquire_program()
        except Busy:
            detail = "the sandbox runs as many MCP servers as it allows (AION_SANDBOX_MAX_SERVERS)"
            await _deny(websocket, 429, "TooManyRequests", detail)
            return
        try:
            await websocket.accept()
            await serve_program(websocket, runner)
        finally:
            runner.release_program()

    return app


async def _deny(websocket: WebSocket, status: int, error: str, detail: str) -> None:
    try:
        await websocket.send_denial_response(render_error(status, error, detail))
    except RuntimeError:  # a server without the denial extension: a plain refusal (403)
        await websocket.close(BAD_MESSAGE, detail[:123])
