"""Soak: mixed traffic at a steady concurrency for a given time; does anything grow?

`python -m bench.soak --duration 30m` (or `make soak ARGS="--duration 30m"`) sets up the same
system as bench.chat_overhead (fresh database, flushed Redis db, fake LLM, api, worker(s)) plus
the tts service, and keeps `--concurrency` clients busy, each on a channel of its own, with a
weighted mix of operations (`--mix`; see bench/mixed/ops.py): plain chats carrying a fact to
extract, a safe tool call, calls that wait for approval (approved and denied), memory saves,
searches and deletes, spoken replies, streams cut and resumed with Last-Event-ID, and answers
cancelled midway. Every operation checks its result; a wrong one is an error with its reason.

Every `--window` a row: operations by kind, errors, operation and first-event latency
percentiles, RSS of every process (api, workers, tts, fake LLM, Redis, the PostgreSQL backends
of the bench's database; children included), the Redis db's key count and Redis's memory, and
the PostgreSQL connections to the bench's database, plus the backends' anonymous memory (their
RSS counts shared_buffers pages), api+worker CPU per operation and the machine's load. At the
end, per reading, the growth per hour of a least-squares line over the windows after
`--warmup`, judged only when they span `--min-span` (10 min) or more (bench/mixed/growth.py
says which limits and why); exit status 1 when something grows or an operation went wrong.

A turn's events live in Redis for AION_EVENT_TTL_SECONDS (1 h by default), so their keys grow
for that long before they level off; the soak sets it to `--event-ttl` (default 300 s) and
warms up for at least that long, so a 30-minute run sees the plateau. Tables go to stdout,
then one JSON line (`--json PATH` saves it too); progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.mixed.growth import assess
from bench.mixed.ops import KINDS, Ops, Wrong
from bench.mixed.record import Outcome, Tally
from bench.mixed.report import table
from bench.mixed.sampler import Sampler
from bench.overhead.common import log
from bench.overhead.runner import run_against_system
from bench.overhead.system import System
from services.api.settings import ApiSettings
from services.tts.settings import TTSSettings
from services.worker.settings import WorkerSettings

DEFAULT_MIX = "chat=30,tool=12,approve=8,deny=4,memory=10,voice=8,resume=14,cancel=14"


class Soak:
    """The clients, the current window and the whole run's tally."""

    def __init__(self, args: argparse.Namespace, ops: Ops, sampler: Sampler) -> None:
        self.args, self.ops, self.sampler = args, ops, sampler
        self.kinds = list(args.mix)
        self.weights = [args.mix[k] for k in self.kinds]
        self.window, self.total = Tally(), Tally()
        self.run_id = uuid.uuid4().hex[:6]

    async def client(self, index: int, deadline: float) -> None:
        rng = random.Random(f"{self.args.seed}-{index}")
        channel = f"soak-{self.run_id}-{index}"
        while time.monotonic() < deadline:
            kind = rng.choices(self.kinds, self.weights)[0]
            outcome = await self.one(kind, channel)
            self.window.add(outcome)
            self.total.add(outcome)

    async def one(self, kind: str, channel: str) -> Outcome:
        started = time.perf_counter()
        first, error = None, None
        try:
            async with asyncio.timeout(self.args.timeout):
                first = await self.ops.run(kind, channel)
        except Wrong as exc:
            error = str(exc)
        except TimeoutError:
            error = f"{kind}: no result within {self.args.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{kind}: transport ({type(exc).__name__})"
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            error = f"{kind}: malformed response ({type(exc).__name__})"
        if error is not None and self.total.errors[error] == 0:
            log(f"first error of its kind: {error}")
        return Outcome(kind, time.perf_counter() - started, first, error)

    async def run(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """All clients until the duration is over (each finishes its operation); a row every
        window. Returns the start snapshot and the windows."""
        start = await asyncio.to_thread(self.sampler.snapshot)
        began = time.monotonic()
        deadline = began + self.args.duration
        clients = {
            asyncio.create_task(self.client(i, deadline)) for i in range(self.args.concurrency)
        }
        windows: list[dict[str, Any]] = []
        boundary, previous = began, start
        while clients:
            boundary += self.args.window
            ended, clients = await asyncio.wait(
                clients, timeout=max(0.0, boundary - time.monotonic())
            )
            for task in ended:
                task.result()  # a bug in the soak itself stops it
            finished, self.window = self.window, Tally()
            snapshot = await asyncio.to_thread(self.sampler.snapshot)
            row = {"t": round(time.monotonic() - began, 1), **finished.figures(), **snapshot}
            row["aion_cpu_ms_per_op"] = _cpu_per_op(previous, snapshot, row["ops"])
            previous = snapshot
            windows.append(row)
            log(
                f"t={row['t']:.0f}s ops={row['ops']} errors={row['errors']}"
                f" p50={row['op_ms']['p50']}ms keys={row['redis_keys']}"
                f" pg={row['pg_connections']} rss={row['rss_mb']}"
            )
        return start, windows


def _cpu_per_op(before: dict[str, Any], after: dict[str, Any], ops: int) -> float | None:
    """CPU ms of the api and workers per operation finished in the window: a rise over time
    at a level load would be AION getting dearer, not the machine getting busier."""
    if not ops:
        return None
    spent: float = sum(after["cpu_s"][g] - before["cpu_s"].get(g, 0.0) for g in ("api", "workers"))
    return round(max(0.0, spent) * 1000 / ops, 1)


def connection_ceiling(env: dict[str, str], workers: int) -> int:
    """The most PostgreSQL connections the pools may hold: the api's, each worker's, tts's."""

    def size(settings: type[ApiSettings | WorkerSettings | TTSSettings]) -> int:
        configured = env.get("AION_DB_POOL_SIZE")
        return int(configured or settings.model_fields["aion_db_pool_size"].default)

    return size(ApiSettings) + workers * size(WorkerSettings) + size(TTSSettings)


async def run(args: argparse.Namespace, system: System) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {system.api_token}"}
    limits = httpx.Limits(max_connections=4 * args.concurrency + 8)
    async with httpx.AsyncClient(
        base_url=system.stack.api_url, headers=headers, timeout=60.0, limits=limits
    ) as http:
        owner_settings: dict[str, Any] = {"tool_permissions": {"reflect": "ask"}}
        if args.tts_engine:
            owner_settings["tts_engine"] = args.tts_engine
        response = await http.post("/api/config/settings", json=owner_settings)
        response.raise_for_status()
        ops = Ops(http, tokens=args.tokens, gap_ms=args.gap, fact_grace=args.fact_grace)
        soak = Soak(args, ops, Sampler.of(system))
        log(f"{args.concurrency} clients for {args.duration:g} s, mix {args.mix}")
        start, windows = await soak.run()
    ceiling = connection_ceiling(system.stack.env, args.workers)
    growth = assess(windows, args.warmup, args.min_span, connection_ceiling=ceiling)
    flagged = sorted(name for name, g in growth.items() if g["flagged"])
    total = soak.total.figures()
    verdict = (
        f"GROWING: {', '.join(flagged)}"
        if flagged
        else "nothing grew"
        if any(g["flagged"] is not None for g in growth.values())
        else f"less than {args.min_span:g} s measured after warm-up: rates shown, nothing judged"
    )
    return {
        "benchmark": "soak",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "window_s": args.window,
        "warmup_s": args.warmup,
        "min_span_s": args.min_span,
        "event_ttl_s": args.event_ttl,
        "mix": args.mix,
        "start": start,
        "end": windows[-1] if windows else start,
        "windows": windows,
        "measured_windows": sum(1 for w in windows if w["t"] > args.warmup),
        "total": total,
        "kinds": soak.total.per_kind(),
        "facts_unchecked": len(ops.facts),
        "growth": growth,
        "verdict": verdict,
        "ok": not flagged and total["errors"] == 0,
    }


def seconds(text: str) -> float:
    """`90`, `90s`, `30m`, `1.5h` as seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a positive time such as 90s, 30m or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def mix(text: str) -> dict[str, int]:
    """`chat=30,tool=10,...`: weights of the kinds (a kind left out does not run)."""
    weights: dict[str, int] = {}
    for item in text.split(","):
        kind, _, weight = item.strip().partition("=")
        if kind not in KINDS or not weight.isdigit():
            raise argparse.ArgumentTypeError(f"{item!r}: KIND=WEIGHT, KIND one of {KINDS}")
        weights[kind] = int(weight)
    if not any(weights.values()):
        raise argparse.ArgumentTypeError("at least one kind needs a weight above 0")
    return {k: w for k, w in weights.items() if w}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=seconds, default=300.0, help="e.g. 30m (default 5m)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once")
    parser.add_argument("--window", type=seconds, default=60.0, help="seconds per row")
    parser.add_argument("--warmup", type=seconds, help="not judged (default: the event TTL)")
    parser.add_argument(
        "--min-span", type=seconds, default=600.0, help="judge growth over at least this"
    )
    parser.add_argument("--event-ttl", type=int, default=300, help="AION_EVENT_TTL_SECONDS")
    parser.add_argument("--mix", type=mix, default=mix(DEFAULT_MIX), help=DEFAULT_MIX)
    parser.add_argument("--tokens", type=int, default=20, help="tokens of a plain answer")
    parser.add_argument("--gap", type=int, default=10, help="ms between tokens")
    parser.add_argument("--fact-grace", type=float, default=60.0, help="s to extract a fact")
    parser.add_argument("--timeout", type=float, default=120.0, help="s per operation")
    parser.add_argument("--tts-engine", help="tts_engine setting (default: AION's own)")
    parser.add_argument("--seed", default="soak", help="the mix's random seed")
    parser.add_argument("--redis-db", type=int, default=11, help="flushed before and after")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs")
    args = parser.parse_args(argv)
    if not 1 <= args.concurrency <= 500 or args.tokens < 4 or args.workers < 1:
        parser.error("--concurrency 1..500, --tokens at least 4, --workers at least 1")
    if args.event_ttl < 60:
        parser.error("--event-ttl: AION takes 60 s at least")
    if args.warmup is None:
        args.warmup = max(args.window, float(args.event_ttl))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_against_system(
        lambda system: run(args, system),
        open_files=16 * args.concurrency + 1024,
        redis_db=args.redis_db,
        keep_logs=args.keep_logs,
        workers=args.workers,
        tts="voice" in args.mix,
        env={"AION_EVENT_TTL_SECONDS": str(args.event_ttl)},
    )
    line = orjson.dumps(report).decode()
    print(table(report))
    print(line, flush=True)
    if args.json is not None:
        args.json.write_text(line + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
