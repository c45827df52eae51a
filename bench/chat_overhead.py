"""Chat overhead: the fake LLM measured directly and through AION, in one run.

`python -m bench.chat_overhead` (or `make bench ARGS="--levels 1,10"`) sets everything up
itself: a fresh PostgreSQL database with migrations (on DATABASE_URL's server, or the embedded
PostgreSQL of `scripts/localpg.py`), a flushed Redis database of its own at REDIS_URL, the fake
LLM of `tests/fakellm` as a subprocess, and one api plus one worker process (`--workers N`
for more).

For every token gap and concurrency level it runs the same load twice, interleaved round by
round: DIRECT (streaming `/v1/chat/completions` requests straight to the fake LLM) and THROUGH
AION (`POST /api/chat` streams, one channel per chat). All chats of a batch start at once.
Reported per (gap, concurrency): time to first token p50/p99 both ways and the difference,
delivered tokens/s both ways and their ratio, CPU ms per turn of the api + worker processes
(plus, for context, of Redis, PostgreSQL, the fake LLM and this client), and errors. Tables go
to stdout, then one JSON line with every figure (`--json PATH` saves it too); progress goes to
stderr. Traffic goes to 127.0.0.1 only; everything the script starts is stopped on exit,
Ctrl-C or SIGTERM. First of all, one 20-turn conversation measures the model requests per plain
turn with memory on (bench/overhead/requests_per_turn.py).

Measuring choices: connections are opened just before each batch (TCP setup is in neither
figure); CPU is psutil user+system, read before a batch and once its turns' jobs have ended;
`AION_*` variables in the environment reach the services (e.g. AION_TOKEN_FLUSH_MS=50), except
the few the script sets itself.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from bench.overhead.batches import Bench
from bench.overhead.client import Client, open_lanes
from bench.overhead.common import log
from bench.overhead.cpu import CpuMeter
from bench.overhead.report import row, table
from bench.overhead.requests_per_turn import requests_per_turn
from bench.overhead.runner import run_against_system
from bench.overhead.system import System

# The parts live in `bench/overhead/` (one concern per module); this file is the entry point:
# the arguments, the order of the run, and what goes to stdout.


def _rounds(args: argparse.Namespace, count: int) -> int:
    rounds: int = max(args.rounds, math.ceil(args.min_samples / count))
    return rounds


async def run(args: argparse.Namespace, system: System) -> dict[str, Any]:
    """Warm up, then every (gap, concurrency) cell; returns the report."""
    stack = system.stack
    assert stack.api is not None
    most = max(args.levels)
    # First, while no other conversation has unread messages for memory extraction.
    log("one conversation, memory on: model requests per plain turn")
    conversation = await requests_per_turn(
        system.llm_url, stack.api_url, system.api_token, stack.env["DATABASE_URL"]
    )
    async with (
        open_lanes(most, args.timeout) as lanes,
        Redis.from_url(system.redis_url) as queue,
    ):
        client = Client(
            lanes, system.llm_url, stack.api_url, system.api_token, args.tokens, args.timeout
        )
        bench = Bench(
            client,
            {
                "api": CpuMeter([stack.api.pid]),
                "worker": CpuMeter([w.pid for w in stack.workers]),
                "llm": CpuMeter([system.llm.pid]),
                "client": CpuMeter([os.getpid()]),
                "redis": CpuMeter(system.redis_pids),
                "postgres": CpuMeter(system.postgres_pids),
            },
            queue=queue,
            pause=args.pause,
        )
        log("warm-up")
        for count in (1, min(10, most)):
            await bench.cell(0, count, 2)
        idle = await bench.idle_cpu_ms_per_s()
        log(f"idle api+worker CPU: {idle} ms/s")
        cells = []
        for gap in args.gaps:
            for count in args.levels:
                rounds = _rounds(args, count)
                log(f"gap {gap} ms, {count} chats at once, {rounds} round(s) each way")
                cell = await bench.cell(gap, count, rounds)
                log(row(cell))
                cells.append(cell)
    return {
        "benchmark": "chat_overhead",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "tokens_per_answer": args.tokens,
        "gaps_ms": args.gaps,
        "levels": args.levels,
        "idle_cpu_ms_per_s": idle,
        "results": cells,
        "requests_per_turn": conversation,
    }


def _int_list(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError("a comma-separated list of non-negative integers")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chat_overhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--levels", type=_int_list, default=[1, 10, 50, 200], help="chats at once")
    parser.add_argument("--gaps", type=_int_list, default=[0, 20], help="ms between tokens")
    parser.add_argument("--tokens", type=int, default=50, help="tokens per answer")
    parser.add_argument("--rounds", type=int, default=3, help="batches per cell and path")
    parser.add_argument(
        "--min-samples", type=int, default=20, help="more rounds at low concurrency, up to this"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per stream")
    parser.add_argument("--pause", type=float, default=0.2, help="s between batches")
    parser.add_argument("--redis-db", type=int, default=12, help="flushed before and after")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (CPU: all)")
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs")
    args = parser.parse_args(argv)
    if min(args.levels) < 1 or args.tokens < 1 or args.rounds < 1:
        parser.error("--levels, --tokens and --rounds must be at least 1")
    if args.min_samples > 10_000 or max(args.levels) > 10_000:
        parser.error("keep --levels and --min-samples at or below 10000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_against_system(
        lambda system: run(args, system),
        open_files=8 * max(args.levels) + 1024,
        redis_db=args.redis_db,
        keep_logs=args.keep_logs,
        workers=args.workers,
    )
    line = orjson.dumps(report).decode()
    print(table(report))
    conversation = report["requests_per_turn"]
    print(
        f"model requests per plain turn, memory on ({conversation['turns']}-turn "
        f"conversation): {conversation['per_turn']}"
    )
    print(line, flush=True)
    if args.json is not None:
        args.json.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
