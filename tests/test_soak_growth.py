"""The soak's growth verdict: a leak is flagged, a level (noisy, or one that levelled off after
warm-up) is not, and too few windows give no verdict rather than a guess."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench.mixed.growth import Limit, assess, growth, slope

LIMIT = Limit(absolute=16.0, relative=0.10, why="test")


def test_slope_is_the_least_squares_line() -> None:
    assert slope([0, 1, 2, 3], [1, 3, 5, 7]) == pytest.approx(2.0)
    assert slope([0, 1, 2], [5, 5, 5]) == pytest.approx(0.0)
    assert slope([1, 1], [0, 9]) is None  # no spread in x
    assert slope([0], [1]) is None


def test_a_steady_leak_is_flagged() -> None:
    hours = [i / 60 for i in range(30)]  # a window a minute for half an hour
    values = [200 + 40 * h for h in hours]  # 40 MB/h on 200 MB: above 16 MB and 10 %
    verdict = growth(hours, values, LIMIT)
    assert verdict["flagged"] is True
    assert verdict["per_hour"] == pytest.approx(40.0)
    assert verdict["late_per_hour"] == pytest.approx(40.0)
    mean = 200 + 40 * 29 / 120  # the level: the mean reading
    assert verdict["limit_per_hour"] == pytest.approx(0.1 * mean, abs=1e-3)


def test_noise_around_a_level_is_not_flagged() -> None:
    rng = random.Random(7)
    hours = [i / 60 for i in range(30)]
    values = [300 + rng.uniform(-3, 3) for _ in hours]
    assert growth(hours, values, LIMIT)["flagged"] is False


def test_growth_that_levels_off_is_not_flagged() -> None:
    hours = [i / 60 for i in range(30)]
    values = [100 + min(h, 0.2) * 400 for h in hours]  # rises 80 MB, flat from minute 12
    verdict = growth(hours, values, LIMIT)
    assert verdict["per_hour"] > verdict["limit_per_hour"]  # the whole span rises...
    assert verdict["late_per_hour"] == pytest.approx(0.0)  # ...but not at the end
    assert verdict["flagged"] is False


def test_too_few_windows_give_no_verdict() -> None:
    verdict = growth([0.1, 0.2], [1.0, 50.0], LIMIT)
    assert verdict["flagged"] is None and verdict["per_hour"] is None
    assert (verdict["first"], verdict["last"]) == (1.0, 50.0)


def _window(t: float, keys: int, api_mb: float) -> dict[str, Any]:
    return {
        "t": t,
        "rss_mb": {"api": api_mb, "tts": 0.0},
        "redis_keys": keys,
        "redis_memory_mb": 2.0,
        "postgres_private_mb": 12.0,
        "pg_connections": 7,
    }


def test_assess_skips_the_warm_up_and_absent_processes() -> None:
    # Keys climb during the warm-up (the events' TTL has not come round yet), then hold.
    windows = [_window(60 * i, min(i, 5) * 100 + 1000 * (i < 5), 90.0) for i in range(1, 31)]
    windows[0]["redis_keys"] = 10
    verdicts = assess(windows, warmup_s=300)
    assert "rss_mb.tts" not in verdicts  # not running: no reading
    assert verdicts["redis_keys"]["flagged"] is False
    assert verdicts["pg_connections"]["flagged"] is False
    leaking = [_window(60 * i, 500, 90.0 + i) for i in range(1, 31)]  # 60 MB/h
    assert assess(leaking, warmup_s=300)["rss_mb.api"]["flagged"] is True
    # Rates over too short a span are shown, not judged.
    short = assess(leaking[:8], warmup_s=300)["rss_mb.api"]
    assert short["flagged"] is None and short["per_hour"] == pytest.approx(60.0)


def test_connections_are_judged_against_the_pools_ceiling() -> None:
    """A pool that opens one more connection for a burst is within its size; a connection
    beyond every pool's size is held outside them."""
    windows = [_window(60 * i, 500, 90.0) for i in range(1, 31)]
    for window in windows[20:]:
        window["pg_connections"] = 8  # one more, late: a rising line, still inside the pools
    assert assess(windows, warmup_s=300)["pg_connections"]["flagged"] is True  # no ceiling
    within = assess(windows, warmup_s=300, connection_ceiling=8)["pg_connections"]
    assert within["flagged"] is False and within["ceiling"] == 8
    windows[-1]["pg_connections"] = 9
    beyond = assess(windows, warmup_s=300, connection_ceiling=8)["pg_connections"]
    assert beyond["flagged"] is True
    short = assess(windows[:8], warmup_s=300, connection_ceiling=8)["pg_connections"]
    assert short["flagged"] is None
