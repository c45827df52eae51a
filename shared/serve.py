"""Serving an ASGI app the same way in every service (api, tts, telegram health)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("aion.serve")

Drain = Callable[[], Awaitable[None]]


class _DrainingServer(uvicorn.Server):
    """uvicorn, but the first SIGTERM/SIGINT runs `drain` before the usual graceful shutdown.

    While `drain` runs the server keeps serving (so a draining api can still answer its probes,
    refuse new chats and relay its open streams); a second signal stops at once.
    """

    def __init__(self, config: uvicorn.Config, drain: Drain | None) -> None:
        super().__init__(config)
        self._drain = drain
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: asyncio.Task[None] | None = None

    async def serve(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain is None or self._loop is None or self._draining is not None:
            super().handle_exit(sig, frame)
            return
        # Called from the signal handler: hand over to the event loop thread-safely.
        self._loop.call_soon_threadsafe(self._start_drain, sig)

    def _start_drain(self, sig: int) -> None:
        if self._draining is not None:
            return
        assert self._drain is not None
        log.info("%s received: draining before shutdown", signal.Signals(sig).name)
        self._draining = asyncio.create_task(self._drain_then_exit(sig, self._drain))

    async def _drain_then_exit(self, sig: int, drain: Drain) -> None:
        try:
            await drain()
        except Exception:
            log.exception("drain failed; shutting down now")
        super().handle_exit(sig, None)


def serve(app: Any, host: str, port: int, *, drain: Drain | None = None, **options: Any) -> None:
    """Run until SIGINT/SIGTERM. Our root logging stays in charge (JSON lines), and no access
    log: health probes every few seconds would drown it, and request lines can carry ids.

    `drain`, when given, runs on the first signal before uvicorn's own graceful shutdown."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, **options)
    _DrainingServer(config, drain).run()
