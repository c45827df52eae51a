"""What the system holds at one moment: RSS of every process (children included: a worker's
embedding helper, the tts service's encoders), the bench's Redis db and its PostgreSQL
connections. Read with blocking clients, so the soak calls it in a thread."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil
import redis

from bench.overhead.system import System

MB = 1024 * 1024


@dataclass
class Sampler:
    """Reads one snapshot of the started system (pids are read afresh each time)."""

    groups: dict[str, Callable[[], list[int]]]
    redis_url: str
    postgres_pids: Callable[[], list[int]]

    @classmethod
    def of(cls, system: System) -> Sampler:
        stack = system.stack

        def pids(*services: Any) -> Callable[[], list[int]]:
            return lambda: [s.pid for s in services if s is not None and s.alive()]

        groups = {
            "api": pids(stack.api),
            "workers": lambda: [w.pid for w in stack.live_workers()],
            "tts": pids(stack.tts),
            "fakellm": pids(system.llm),
            "redis": lambda: list(system.redis_pids),
            "postgres": system.postgres_pids,
        }
        return cls(groups, system.redis_url, system.postgres_pids)

    def snapshot(self) -> dict[str, Any]:
        rss = {name: round(_rss(pids()) / MB, 1) for name, pids in self.groups.items()}
        cpu = {name: round(_cpu(pids()), 2) for name, pids in self.groups.items()}
        private = _private(self.postgres_pids())
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = int(client.dbsize())
            memory = int(client.info("memory")["used_memory"])
        finally:
            client.close()
        return {
            "rss_mb": rss,
            # A backend's RSS counts every page of shared_buffers it has touched, so it climbs
            # towards that size under any load; its own (unique) memory is what a leak grows.
            "postgres_private_mb": round(private / MB, 1),
            "redis_keys": keys,
            "redis_memory_mb": round(memory / MB, 2),
            "pg_connections": len(self.postgres_pids()),
            "cpu_s": cpu,  # CPU seconds so far (children that ended are not counted)
            "load1": round(os.getloadavg()[0], 1),  # the machine's, for context
        }


def _rss(pids: list[int]) -> int:
    """Resident bytes of these processes and all their children."""
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            family = [process, *process.children(recursive=True)]
            for member in family:
                with contextlib.suppress(psutil.Error):
                    total += member.memory_info().rss
    return total


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def _private(pids: list[int]) -> int:
    """Anonymous resident memory (RSS less file-backed and shared pages: RssAnon): a
    backend's own heap, caches and plans, without the shared_buffers pages it has touched."""
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            info = psutil.Process(pid).memory_info()
            total += max(0, info.rss - info.shared)
    return total
