"""Serving an ASGI app the same way in every service (api, tts, telegram health)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("aion.serve")

Drain = Callable[[], Awaitable[None]]


class QuietServer(uvicorn.Server):
    """uvicorn with its housekeeping tick (the Date header, the exit check) once a second
    instead of ten times: an idle service wakes up ten times less. Told to stop, by a signal or
    `stop()`, it notices at once."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._ticking: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def main_loop(self) -> None:
        wake = asyncio.Event()
        self._ticking = (asyncio.get_running_loop(), wake)
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000  # on_tick's once-a-second part runs every tick
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await wake.wait()
            wake.clear()
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._wake()

    def stop(self) -> None:
        """Shut down gracefully, as a SIGTERM would."""
        self.should_exit = True
        self._wake()

    def _wake(self) -> None:
        if self._ticking is not None:
            loop, wake = self._ticking
            loop.call_soon_threadsafe(wake.set)  # may run in a signal handler


class _DrainingServer(QuietServer):
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
