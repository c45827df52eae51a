"""Turning raw batch results into the reported figures (rounded here, once, so the table
and the JSON line always agree)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.overhead.streams import StreamResult


@dataclass
class Series:
    """One path at one (gap, concurrency), accumulated over rounds."""

    ttfts: list[float] = field(default_factory=list)
    turns: int = 0
    tokens: int = 0
    wall: float = 0.0
    cpu: Counter[str] = field(default_factory=Counter)  # seconds per meter name
    wakeups: Counter[str] = field(default_factory=Counter)  # main-thread wake-ups per meter
    errors: Counter[str] = field(default_factory=Counter)

    def add(
        self,
        results: list[StreamResult],
        wall: float,
        cpu: dict[str, float],
        wakeups: dict[str, float] | None = None,
    ) -> None:
        self.turns += len(results)
        self.wall += wall
        self.cpu.update(cpu)
        self.wakeups.update(wakeups or {})
        for result in results:
            self.tokens += result.tokens
            if result.ttft is not None:
                self.ttfts.append(result.ttft)
            if result.error is not None:
                self.errors[result.error] += 1

    def figures(self) -> dict[str, Any]:
        errors = sum(self.errors.values())
        return {
            "turns": self.turns,
            "ttft_p50_ms": ms(percentile(self.ttfts, 50)),
            "ttft_p99_ms": ms(percentile(self.ttfts, 99)),
            "ttft_max_ms": ms(max(self.ttfts, default=None)),
            "tokens": self.tokens,
            "tokens_per_s": round(self.tokens / self.wall, 1) if self.wall else None,
            **{f"{name}_cpu_ms_per_turn": per_turn(s, self.turns) for name, s in self.cpu.items()},
            **{
                f"{name}_wakeups_per_turn": round(n / self.turns, 1) if self.turns else None
                for name, n in self.wakeups.items()
            },
            "errors": errors,
            "error_pct": round(100 * errors / self.turns, 2) if self.turns else None,
            "error_kinds": dict(self.errors),
        }


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def per_turn(cpu_seconds: float, turns: int) -> float | None:
    return round(cpu_seconds * 1000 / turns, 2) if turns else None


def diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 1)
