"""The load pattern: batches of chats released together, and cells that interleave the two
paths round by round so drift on the machine hits both alike."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bench.overhead.client import Client, Stream
from bench.overhead.common import AION
from bench.overhead.cpu import CpuMeter
from bench.overhead.stats import Series, diff
from bench.overhead.streams import StreamResult
from shared.jobs import QUEUE_NAME

QUIET_LIMIT_SECONDS = 60.0
# Whose event-loop wake-ups are counted (our own processes; Redis and PostgreSQL are shared).
WAKEUP_METERS = ("api", "worker")


@dataclass
class Bench:
    """Runs batches against a started system and collects their figures."""

    client: Client
    meters: dict[str, CpuMeter]  # "api" and "worker" make up "aion"; others for context
    queue: Redis  # the system's Redis, where the worker's jobs are
    pause: float

    async def batch(self, series: Series, stream: Stream, count: int) -> None:
        """`count` chats released at once by a barrier; adds their results to `series`."""
        barrier = asyncio.Barrier(count + 1)

        async def chat(index: int) -> StreamResult:
            await barrier.wait()
            return await stream(index)

        tasks = [asyncio.create_task(chat(i)) for i in range(count)]
        cpu0, woken0 = self._cpu(), self._wakeups()
        try:
            async with asyncio.timeout(self.client.timeout + 60):
                await barrier.wait()
                started = time.perf_counter()
                results = await asyncio.gather(*tasks)
                wall = time.perf_counter() - started
        finally:
            for task in tasks:
                task.cancel()
        await self._worker_done()  # its bookkeeping after the streams is the turns' CPU too
        cpu1, woken1 = self._cpu(), self._wakeups()
        spent = {name: CpuMeter.spent(cpu0[name], cpu1[name]) for name in cpu0}
        spent[AION] = spent.get("api", 0.0) + spent.get("worker", 0.0)
        woken = {name: CpuMeter.spent(woken0[name], woken1[name]) for name in woken0}
        series.add(list(results), wall, spent, woken)
        await asyncio.sleep(self.pause)

    async def _worker_done(self) -> None:
        """Until no job is due or running: a turn's job ends after its bookkeeping (history,
        usage, memory scheduling), and stays in arq's queue until then. Jobs deferred to later
        (the workers' crons) do not count."""
        deadline = time.monotonic() + QUIET_LIMIT_SECONDS
        while await self.queue.zcount(QUEUE_NAME, "-inf", int(time.time() * 1000)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker was still busy {QUIET_LIMIT_SECONDS:g} s on")
            await asyncio.sleep(0.01)

    def _cpu(self) -> dict[str, dict[int, float]]:
        return {name: meter.read() for name, meter in self.meters.items()}

    def _wakeups(self) -> dict[str, dict[int, float]]:
        return {name: self.meters[name].wakeups() for name in WAKEUP_METERS}

    async def cell(self, gap_ms: int, count: int, rounds: int) -> dict[str, Any]:
        """Both paths at one (gap, concurrency), interleaved round by round."""
        direct, aion = Series(), Series()
        client = self.client
        for _ in range(rounds):
            await client.prime(client.llm_url, "/_health", count)
            await self.batch(direct, client.direct(gap_ms), count)
            await client.prime(client.api_url, "/healthz", count)
            await self.batch(aion, client.aion(gap_ms), count)
        d, a = direct.figures(), aion.figures()
        return {
            "gap_ms": gap_ms,
            "concurrency": count,
            "rounds": rounds,
            "direct": d,
            "aion": a,
            "added_ttft_p50_ms": diff(a["ttft_p50_ms"], d["ttft_p50_ms"]),
            "added_ttft_p99_ms": diff(a["ttft_p99_ms"], d["ttft_p99_ms"]),
            "throughput_ratio": (
                round(a["tokens_per_s"] / d["tokens_per_s"], 3)
                if a["tokens_per_s"] and d["tokens_per_s"]
                else None
            ),
            "cpu_ms_per_turn": a["aion_cpu_ms_per_turn"],
        }

    async def idle_cpu_ms_per_s(self, seconds: float = 5.0) -> float:
        """Background CPU of the api + worker while nothing happens."""
        meters = (self.meters["api"], self.meters["worker"])
        before = sum(meter.seconds() for meter in meters)
        await asyncio.sleep(seconds)
        after = sum(meter.seconds() for meter in meters)
        return round((after - before) * 1000 / seconds, 2)
