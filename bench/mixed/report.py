"""The soak's tables: one row per window, the kinds over the whole run, the system at start
and end, and the growth verdicts."""

from __future__ import annotations

from typing import Any

from bench.mixed.ops import KINDS

_SHORT = {"chat": "chat", "tool": "tool", "approve": "appr", "deny": "deny", "memory": "mem"}
_SHORT |= {"voice": "voic", "resume": "resm", "cancel": "canc"}


def _f(value: float | None, width: int, digits: int = 0) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def window_header(groups: list[str]) -> list[str]:
    kinds = " ".join(f"{_SHORT[k]:>4}" for k in KINDS)
    rss = " ".join(f"{g[:8]:>8}" for g in groups)
    return [
        "   t(s)  ops  err | " + kinds + " |   op ms p50   p95   p99 | 1st ev p50   p99"
        " | RSS MB " + rss + " pg-own | keys  redisMB pg | cpu/op load",
        "-" * (116 + 5 * len(KINDS) + 9 * len(groups)),
    ]


def window_row(window: dict[str, Any], groups: list[str]) -> str:
    kinds = " ".join(f"{window['by_kind'].get(k, 0):>4}" for k in KINDS)
    op, first = window["op_ms"], window["first_event_ms"]
    rss = " ".join(_f(window["rss_mb"].get(g), 8, 1) for g in groups)
    return (
        f"{window['t']:>7.0f} {window['ops']:>4} {window['errors']:>4} | {kinds}"
        f" | {_f(op['p50'], 11)} {_f(op['p95'], 5)} {_f(op['p99'], 5)}"
        f" | {_f(first['p50'], 10)} {_f(first['p99'], 5)}"
        f" |        {rss} {_f(window['postgres_private_mb'], 6, 1)}"
        f" | {window['redis_keys']:>4} {window['redis_memory_mb']:>8.1f}"
        f" {window['pg_connections']:>2} | {_f(window.get('aion_cpu_ms_per_op'), 6)}"
        f" {window['load1']:>4.1f}"
    )


def table(report: dict[str, Any]) -> str:
    windows = report["windows"]
    groups = list(windows[0]["rss_mb"]) if windows else []
    lines = [
        f"AION soak: {report['duration_s']:.0f} s at concurrency {report['concurrency']},"
        f" {report['workers']} worker(s), windows of {report['window_s']:.0f} s, warm-up"
        f" {report['warmup_s']:.0f} s, turn events kept {report['event_ttl_s']} s,"
        f" {report['cpus']} CPUs",
        "",
        *window_header(groups),
    ]
    none = {"p50": None, "p95": None, "p99": None}
    start = {"t": 0, "ops": 0, "errors": 0, "by_kind": {}, "op_ms": none, "first_event_ms": none}
    lines.append(window_row(start | report["start"], groups))
    lines += [window_row(w, groups) for w in windows]
    total = report["total"]
    lines += ["", "kind       ops  errors |  op ms p50     p95     p99", "-" * 50]
    for kind, figures in report["kinds"].items():
        op = figures["op_ms"]
        lines.append(
            f"{kind:<8} {figures['ops']:>5} {figures['errors']:>7} |"
            f" {_f(op['p50'], 10)} {_f(op['p95'], 7)} {_f(op['p99'], 7)}"
        )
    lines.append(
        f"{'all':<8} {total['ops']:>5} {total['errors']:>7} | {_f(total['op_ms']['p50'], 10)}"
        f" {_f(total['op_ms']['p95'], 7)} {_f(total['op_ms']['p99'], 7)}"
    )
    if total["error_kinds"]:
        lines += ["errors by reason:"]
        lines += [f"  {n:>5}  {reason}" for reason, n in sorted(total["error_kinds"].items())]
    lines += ["", *growth_table(report)]
    return "\n".join(lines)


def growth_table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"growth after warm-up (least-squares line over {report['measured_windows']} windows;"
        " flagged when the whole span and its later half both rise faster than the limit;"
        f" judged over {report['min_span_s']:.0f} s or more)",
        "reading                   first      last   per hour  late/hour  limit/hour  verdict",
        "-" * 86,
    ]
    for name, g in report["growth"].items():
        verdict = {True: "GROWING", False: "level", None: "not judged"}[g["flagged"]]
        lines.append(
            f"{name:<22} {_f(g['first'], 8, 1)} {_f(g['last'], 9, 1)} {_f(g['per_hour'], 10, 1)}"
            f" {_f(g['late_per_hour'], 10, 1)} {_f(g['limit_per_hour'], 11, 1)}  {verdict}"
        )
    lines += [
        "limits: the larger of an absolute rate and 10 %/h of the level; connections: never"
        f" above the pools' sizes in all ({_ceiling(report)}); the reasons are in the JSON line",
        f"verdict: {report['verdict']}",
    ]
    return lines


def _ceiling(report: dict[str, Any]) -> str:
    ceiling = report["growth"].get("pg_connections", {}).get("ceiling")
    return "unknown: 2/h of growth instead" if ceiling is None else str(ceiling)
