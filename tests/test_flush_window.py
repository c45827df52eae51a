"""Token coalescing in the worker's emitter: the first token goes at once, later ones within the
flush window travel as one event, and the window widens with the turns running at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest
from arq.connections import ArqRedis

from services.worker.emitter import FLUSH_SLACK, TURNS_PER_WINDOW, TurnEmitter, flush_window
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


async def _emitting(bus: TurnBus, window: Callable[[], float]) -> tuple[TurnJob, TurnEmitter]:
    """A submitted turn and its emitter."""
    job = TurnJob(
        turn_id=uuid.uuid4().hex,
        channel=f"emit-{uuid.uuid4().hex[:8]}",
        message="hi",
        enqueued_at_ms=int(time.time() * 1000),
    )
    assert await bus.submit(job)
    return job, TurnEmitter(bus, job.turn_id, job.channel, window)


async def _texts(
    bus: TurnBus, window: list[float], reads: list[list[str]], *, settle: bool = True
) -> list[str]:
    """The token events a turn stored when `reads` came in under `window[0]`: the tokens of
    one read back to back; with `settle`, each read after the events before it were stored."""
    job, emitter = await _emitting(bus, lambda: window[0])
    for read in reads:
        for token in read:
            await emitter.token(token)
        if settle:
            await _until_stored(bus, job.turn_id, emitter.text, window[0])
    await emitter.done()
    stored = await bus.read_after(job.turn_id, None)
    return [decode(e.data).text for e in stored if e.type == "token"]  # type: ignore[union-attr]


async def _until_stored(bus: TurnBus, turn_id: str, text: str, window: float) -> None:
    """Until the stored token events hold `text`, or (a window too wide to wait for) what the
    first event held."""
    async with asyncio.timeout(10):
        while True:
            stored = [
                decode(e.data).text  # type: ignore[union-attr]
                for e in await bus.read_after(turn_id, None)
                if e.type == "token"
            ]
            if "".join(stored) == text or (stored and window > 10):
                return
            await asyncio.sleep(0.005)


async def test_the_first_read_goes_at_once_and_later_ones_within_the_window_as_one(
    bus: TurnBus,
) -> None:
    assert await _texts(bus, [60.0], [["a"], ["b"], ["c"]]) == ["a", "bc"]


async def test_tokens_of_one_read_travel_as_one_event(bus: TurnBus) -> None:
    assert await _texts(bus, [60.0], [["a", "b", "c"]], settle=False) == ["abc"]
    assert await _texts(bus, [0.0], [["a", "b"], ["c"]]) == ["ab", "c"]


async def test_with_no_window_every_read_is_an_event(bus: TurnBus) -> None:
    assert await _texts(bus, [0.0], [["a"], ["b"], ["c"]]) == ["a", "b", "c"]


async def test_a_send_due_within_the_slack_goes_at_once(bus: TurnBus) -> None:
    """A read that comes shortly before its window ends is sent then, not after a timer."""
    window, early = 2.0, 0.2  # the read comes `early` s before the window ends: in the slack
    assert early < window * FLUSH_SLACK
    job, emitter = await _emitting(bus, lambda: window)
    loop = asyncio.get_running_loop()
    first = loop.time()
    await emitter.token("a")
    await _until_stored(bus, job.turn_id, "a", 0.0)
    await asyncio.sleep(first + window - early - loop.time())
    sent_at = loop.time()
    await emitter.token("b")
    await _until_stored(bus, job.turn_id, "ab", 0.0)
    assert loop.time() - sent_at < early / 2  # a timer would have waited `early` or more
    await emitter.done()
