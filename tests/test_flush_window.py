"""Token coalescing in the worker's emitter: the first token goes at once, later ones within the
flush window travel as one event, and the window widens with the turns running at once."""

from __future__ import annotations

import time
import uuid

import pytest
from arq.connections import ArqRedis

from services.worker.emitter import TURNS_PER_WINDOW, TurnEmitter, flush_window
from shared.events import decode
from shared.jobs import TurnJob
from shared.turn_bus import TurnBus


def test_the_window_is_the_base_until_the_worker_gets_busy() -> None:
    assert flush_window(0.05, 0.2, 0) == 0.05
    assert flush_window(0.05, 0.2, TURNS_PER_WINDOW) == 0.05
    assert flush_window(0.05, 0.2, 2 * TURNS_PER_WINDOW) == pytest.approx(0.1)
    assert flush_window(0.05, 0.2, 100 * TURNS_PER_WINDOW) == 0.2  # never past the widest
    assert flush_window(0.05, 0.0, 100 * TURNS_PER_WINDOW) == 0.05  # 0: fixed


@pytest.fixture
def bus(queue_redis: ArqRedis) -> TurnBus:
    return TurnBus(queue_redis, ttl_seconds=60, maxlen=1000, lease_seconds=5)


async def _texts(bus: TurnBus, window: list[float], tokens: list[str]) -> list[str]:
    """The token events a turn stored when `tokens` came back to back under `window[0]`."""
    job = TurnJob(
        turn_id=uuid.uuid4().hex,
        channel=f"emit-{uuid.uuid4().hex[:8]}",
        message="hi",
        enqueued_at_ms=int(time.time() * 1000),
    )
    assert await bus.submit(job)
    emitter = TurnEmitter(bus, job.turn_id, job.channel, lambda: window[0])
    for token in tokens:
        await emitter.token(token)
    await emitter.done()
    stored = await bus.read_after(job.turn_id, None)
    return [decode(e.data).text for e in stored if e.type == "token"]  # type: ignore[union-attr]


async def test_tokens_within_the_window_travel_as_one_event(bus: TurnBus) -> None:
    assert await _texts(bus, [60.0], ["a", "b", "c"]) == ["a", "bc"]


async def test_with_no_window_every_token_is_an_event(bus: TurnBus) -> None:
    assert await _texts(bus, [0.0], ["a", "b", "c"]) == ["a", "b", "c"]
