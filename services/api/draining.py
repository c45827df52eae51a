"""Graceful shutdown of an api process: stop taking chats, let open streams finish (bounded).

On the first SIGTERM (shared.serve) the process is marked draining: `/readyz` answers 503 so the
load balancer stops sending traffic, `POST /api/chat` answers 503 so a client retries on another
replica, and every open SSE stream keeps relaying until its turn ends or the drain period
(`AION_API_DRAIN_SECONDS`) runs out. A stream cut at the deadline is resumed elsewhere with
`Last-Event-ID`; the turn itself runs on a worker and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from fastapi import FastAPI

log = logging.getLogger("aion.api.drain")

# A request accepted just before the signal subscribes to its turn within a few loop turns.
_SETTLE_SECONDS = 0.2


@dataclass(eq=False)
class DrainState:
    """Set once, when the process starts shutting down; never cleared."""

    draining: bool = False


async def drain(app: FastAPI, seconds: float) -> None:
    """Mark the app draining, then wait until no stream is open or `seconds` have passed."""
    context = getattr(app.state, "context", None)
    if context is None:  # still starting up: nothing to drain
        return
    context.drain.draining = True
    await asyncio.sleep(min(_SETTLE_SECONDS, seconds))
    log.info("draining: %d open stream(s), waiting up to %.0f s", context.hub.open_streams, seconds)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds - _SETTLE_SECONDS, 0)):
            await context.hub.wait_idle()
    if context.hub.open_streams:
        log.warning("drain period over; closing %d open stream(s)", context.hub.open_streams)
    else:
        log.info("drained: no open streams")
