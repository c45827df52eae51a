"""Outcomes of the soak's operations, gathered per time window and for the whole run (rounded
here, once, so the tables and the JSON line agree)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.overhead.stats import ms, percentile


@dataclass(slots=True)
class Outcome:
    kind: str
    seconds: float  # the whole operation
    first: float | None  # to the first event of its first stream
    error: str | None


@dataclass
class Tally:
    """Operations of one span (a window, or the whole run)."""

    seconds: list[float] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    kind_errors: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.kinds[outcome.kind] += 1
        if outcome.error is not None:
            self.errors[outcome.error] += 1
            self.kind_errors[outcome.kind] += 1
            return  # a wrong result's time is not a latency
        self.seconds.append(outcome.seconds)
        self.by_kind[outcome.kind].append(outcome.seconds)
        if outcome.first is not None:
            self.firsts.append(outcome.first)

    def figures(self) -> dict[str, Any]:
        return {
            "ops": sum(self.kinds.values()),
            "by_kind": dict(self.kinds),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "op_ms": _percentiles(self.seconds),
            "first_event_ms": _percentiles(self.firsts),
        }

    def per_kind(self) -> dict[str, dict[str, Any]]:
        return {
            kind: {
                "ops": count,
                "errors": self.kind_errors[kind],
                "op_ms": _percentiles(self.by_kind.get(kind, [])),
            }
            for kind, count in sorted(self.kinds.items())
        }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    return {f"p{q}": ms(percentile(values, q)) for q in (50, 95, 99)}
