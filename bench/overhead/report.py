"""The human-readable tables; the column layout is fixed so runs can be diffed by eye."""

from __future__ import annotations

from typing import Any

from bench.overhead.common import AION, DIRECT


def _f(value: float | None, width: int, digits: int = 0) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _errors(figures: dict[str, Any]) -> str:
    return f"{figures['errors']} ({figures['error_pct']:.1f}%)"


def row(cell: dict[str, Any]) -> str:
    """One (gap, concurrency) line of the main table (also logged as each cell ends)."""
    d, a = cell["direct"], cell["aion"]
    return (
        f"{cell['gap_ms']:>4} {cell['concurrency']:>5} {a['turns']:>6}"
        f" | {_f(d['ttft_p50_ms'], 7, 1)} {_f(a['ttft_p50_ms'], 8, 1)}"
        f" | {_f(d['ttft_p99_ms'], 7, 1)} {_f(a['ttft_p99_ms'], 8, 1)}"
        f" | {_f(cell['added_ttft_p50_ms'], 7, 1)} {_f(cell['added_ttft_p99_ms'], 8, 1)}"
        f" | {_f(d['tokens_per_s'], 7)} {_f(a['tokens_per_s'], 7)}"
        f" {_f(cell['throughput_ratio'], 5, 2)}"
        f" | {_f(cell['cpu_ms_per_turn'], 6, 1)}"
        f" | {_errors(a):>11} {_errors(d):>11}"
    )


def table(report: dict[str, Any]) -> str:
    """The human-readable result table."""
    lines = [
        f"AION chat overhead: {report['tokens_per_answer']} tokens per answer,"
        f" {report['cpus']} CPUs, idle api+worker CPU {report['idle_cpu_ms_per_s']} ms/s",
        "                   |   TTFT p50 (ms)  |   TTFT p99 (ms)  | added TTFT (ms)  "
        "|    delivered tokens/s | CPU ms |      errors",
        " gap  conc  turns  |  direct     aion |  direct     aion |     p50      p99 "
        "|  direct    aion ratio | /turn  |        aion      direct",
        "-" * 126,
    ]
    lines += [row(cell) for cell in report["results"]]
    kinds = [
        f"  gap {c['gap_ms']} conc {c['concurrency']} {path}: {c[path]['error_kinds']}"
        for c in report["results"]
        for path in (DIRECT, AION)
        if c[path]["error_kinds"]
    ]
    if kinds:
        lines += ["errors by kind:", *kinds]
    lines += [
        "",
        "CPU ms per turn by process (redis and postgres are shared servers: anyone's load counts),"
        " and event-loop wake-ups per turn through AION",
        "                   |                 through AION                  |      direct"
        "      |   wake-ups",
        " gap  conc  turns  |    api  worker   redis postgres  fakellm client |  fakellm client"
        " |    api  worker",
        "-" * 105,
    ]
    lines += [_cpu_row(cell) for cell in report["results"]]
    return "\n".join(lines)


def _cpu_row(cell: dict[str, Any]) -> str:
    d, a = cell["direct"], cell["aion"]

    def cpu(figures: dict[str, Any], name: str, width: int) -> str:
        return _f(figures.get(f"{name}_cpu_ms_per_turn"), width, 1)

    return (
        f"{cell['gap_ms']:>4} {cell['concurrency']:>5} {a['turns']:>6}"
        f" | {cpu(a, 'api', 6)} {cpu(a, 'worker', 7)} {cpu(a, 'redis', 7)}"
        f" {cpu(a, 'postgres', 8)} {cpu(a, 'llm', 8)} {cpu(a, 'client', 6)}"
        f" | {cpu(d, 'llm', 8)} {cpu(d, 'client', 6)}"
        f" | {_f(a.get('api_wakeups_per_turn'), 6, 1)} {_f(a.get('worker_wakeups_per_turn'), 7, 1)}"
    )
