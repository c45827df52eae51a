"""Does a quantity level off? A least-squares line through its readings after warm-up, over
the whole measured span and over its later half, in growth per hour.

A bounded quantity under steady load (a process's RSS, Redis keys whose TTL has come round,
pooled connections) wanders around a level: its line is flat. A leak grows with the traffic, so
its line keeps rising to the end. A reading is flagged when both lines rise faster than its
limit: the whole span (a trend, not one noisy window) and the later half (still rising at the
end, so not a warm-up that levelled off late).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_POINTS = 3  # fewer readings make no trend


@dataclass(frozen=True, slots=True)
class Limit:
    """Growth per hour allowed: the larger of `absolute` (in the reading's unit) and
    `relative` x the reading's mean level."""

    absolute: float
    relative: float
    why: str

    def per_hour(self, level: float) -> float:
        return max(self.absolute, self.relative * abs(level))


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs; None with fewer than two distinct xs."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def growth(hours: list[float], values: list[float], limit: Limit) -> dict[str, Any]:
    """The verdict on one reading: first/last value, growth per hour over all points and over
    the later half, the limit it was held to, and whether it is flagged (None: too few points)."""
    result: dict[str, Any] = {
        "first": values[0] if values else None,
        "last": values[-1] if values else None,
        "per_hour": None,
        "late_per_hour": None,
        "limit_per_hour": None,
        "flagged": None,
    }
    if len(values) < MIN_POINTS:
        return result
    level = sum(values) / len(values)
    allowed = limit.per_hour(level)
    overall = slope(hours, values)
    half = len(values) // 2
    late = slope(hours[half:], values[half:]) if len(values) - half >= MIN_POINTS else overall
    result |= {
        "per_hour": _round(overall),
        "late_per_hour": _round(late),
        "limit_per_hour": _round(allowed),
        "flagged": bool(
            overall is not None and late is not None and overall > allowed and late > allowed
        ),
    }
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


RSS = Limit(
    16.0,
    0.10,
    "RSS moves by a few MB as allocators keep freed memory; 16 MB/h is ~1 KB kept per"
    " operation at a few operations a second, and 10 %/h would double the process in 10 h",
)
LIMITS = {
    "redis_keys": Limit(
        100.0,
        0.10,
        "a turn's keys live AION_EVENT_TTL_SECONDS; after warm-up (at least one TTL) their"
        " count only follows the traffic",
    ),
    "redis_memory_mb": Limit(8.0, 0.10, "like the keys, plus Redis's own allocator slack"),
    "postgres_private_mb": Limit(
        16.0, 0.10, "the backends' own memory (their RSS is judged by this instead)"
    ),
    # Judged against the pools' ceiling when the caller knows it (see `assess`).
    "pg_connections": Limit(
        2.0, 0.0, "with no known ceiling: a lasting rise is a connection never given back"
    ),
}


def readings(window: dict[str, Any]) -> dict[str, float]:
    """The figures of one window's snapshot that are held to a limit."""
    values = {f"rss_mb.{name}": float(mb) for name, mb in window["rss_mb"].items()}
    values |= {name: float(window[name]) for name in LIMITS}
    return values


def assess(
    windows: list[dict[str, Any]],
    warmup_s: float,
    min_span_s: float = 600.0,
    connection_ceiling: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Growth of every reading over the windows that end after the warm-up (`t` in seconds).
    Over less than `min_span_s` the rates are given but nothing is judged (`flagged` None):
    a minute or two says little about an hour.

    `connection_ceiling`: the sum of the services' pool sizes. Pools open connections on
    demand up to their size (a burst adds one now and then) and close idle ones, so their
    count wanders below that sum and its slope says little; a count above it is a connection
    held outside the pools, and is what is flagged then."""
    measured = [w for w in windows if w["t"] > warmup_s]
    hours = [w["t"] / 3600 for w in measured]
    judged = len(hours) > 1 and (hours[-1] - hours[0]) * 3600 >= min_span_s
    series: dict[str, list[float]] = {}
    for window in measured:
        for name, value in readings(window).items():
            series.setdefault(name, []).append(value)
    verdicts = {}
    for name, values in series.items():
        if name.startswith("rss_mb.") and not any(values):
            continue  # a process that is not there (no tts, a remote Redis)
        limit = RSS if name.startswith("rss_mb.") else LIMITS[name]
        verdict = growth(hours, values, limit) | {"why": limit.why}
        if name == "rss_mb.postgres":
            verdict |= {"flagged": None, "why": "shared pages count: see postgres_private_mb"}
        elif name == "pg_connections" and connection_ceiling is not None:
            verdict |= {
                "ceiling": connection_ceiling,
                "flagged": max(values) > connection_ceiling if judged else None,
                "why": f"pools open and close connections on demand, {connection_ceiling} at"
                " most in all: more is a connection held outside them",
            }
        elif not judged:
            verdict["flagged"] = None
        verdicts[name] = verdict
    return verdicts
