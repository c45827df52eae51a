"""Acknowledging a control message: the api waits for every live worker's (shared/control.py)."""

from __future__ import annotations

from services.worker.context import WorkerContext
from shared.control import ACK_TTL_SECONDS, ack_key


async def acknowledge(app: WorkerContext, request_id: str | None, report: bytes = b"1") -> None:
    """Say this worker applied the change `request_id` named (nothing to say without one)."""
    if request_id is None:
        return
    key = ack_key(request_id)
    async with app.redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, app.worker_id, report)
        pipe.expire(key, ACK_TTL_SECONDS)
        await pipe.execute()
