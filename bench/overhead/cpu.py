"""CPU readings of the processes involved, so overhead is charged per turn, not guessed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import psutil


class CpuMeter:
    """User+system CPU seconds of a set of processes, which may change between readings, and
    their main threads' wake-ups (voluntary context switches: each time the event loop slept
    and was woken). Wake-ups are counted, not timed, so they hold still on a machine whose
    speed drifts; where CPU time moves 10-30 % between runs, they show what a change saved."""

    def __init__(self, pids: Callable[[], list[int]] | list[int]) -> None:
        self._pids = pids if callable(pids) else lambda: list(pids)
        self._procs: dict[int, psutil.Process] = {}

    def read(self) -> dict[int, float]:
        """CPU seconds per pid right now."""
        seconds = {}
        for pid in self._pids():
            with contextlib.suppress(psutil.Error):
                proc = self._procs.get(pid) or self._procs.setdefault(pid, psutil.Process(pid))
                times = proc.cpu_times()
                seconds[pid] = times.user + times.system
        return seconds

    def wakeups(self) -> dict[int, float]:
        """Voluntary context switches of each process's main thread so far."""
        counts = {}
        for pid in self._pids():
            with contextlib.suppress(psutil.Error):
                proc = self._procs.get(pid) or self._procs.setdefault(pid, psutil.Process(pid))
                counts[pid] = float(proc.num_ctx_switches().voluntary)
        return counts

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU seconds (or wake-ups) between two readings; a process born in between counts in
        full."""
        return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())

    def seconds(self) -> float:
        return sum(self.read().values())
