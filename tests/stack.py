"""Runs AION's real services as child processes for the tests (and the benchmark)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_migrations(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


@dataclass
class Service:
    """One child process with its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    port: int | None = None  # its HTTP port (api; a worker's health and metrics port)

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} has no HTTP port"
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Service:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        if self.alive():
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def terminate(self) -> None:
        """SIGTERM without waiting: the process drains and exits by itself."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP: frozen until `resume` (it takes no work meanwhile)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, grace: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Stack:
    """An api (and any number of extra apis), any number of workers and a tts service sharing
    one PostgreSQL and one Redis.

    The tts port is fixed up front so workers know AION_TTS_URL before tts runs (it may be
    started later, or stopped and started again, to see how turns cope without it)."""

    env: dict[str, str]
    log_dir: Path
    api_port: int = field(default_factory=free_port)
    tts_port: int = field(default_factory=free_port)
    api: Service | None = None
    tts: Service | None = None
    workers: list[Service] = field(default_factory=list)
    extra_apis: list[Service] = field(default_factory=list)
    extra_services: list[Service] = field(default_factory=list)
    start_timeout: float = field(default_factory=lambda: start_seconds())  # per service start

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def tts_url(self) -> str:
        return f"http://127.0.0.1:{self.tts_port}"

    def start_tts(self, extra_env: dict[str, str] | None = None) -> Service:
        env = {**self.env, "AION_TTS_PORT": str(self.tts_port), **(extra_env or {})}
        self.tts = Service(
            "tts", ["-m", "services.tts"], env, self.log_dir / f"tts-{self.tts_port}.log"
        ).start()
        wait_for(
            lambda: api_ready(self.tts_url, "/healthz"),
            "the tts service",
            self.tts,
            self.start_timeout,
        )
        return self.tts

    def start_telegram(self, extra_env: dict[str, str] | None = None) -> Service:
        """The telegram service, talking to this stack's api; its health port is its own (or
        AION_TELEGRAM_HEALTH_PORT of `extra_env`, for a webhook URL that must name it)."""
        port = int((extra_env or {}).get("AION_TELEGRAM_HEALTH_PORT") or free_port())
        env = {
            **self.env,
            "AION_API_URL": self.api_url,
            "AION_TELEGRAM_HEALTH_PORT": str(port),
            **(extra_env or {}),
        }
        service = Service(
            f"telegram-{port}",
            ["-m", "services.telegram"],
            env,
            self.log_dir / f"telegram-{port}.log",
            port=port,
        ).start()
        self.extra_services.append(service)
        wait_for(
            lambda: api_ready(service.url, "/readyz"),
            "the telegram service",
            service,
            self.start_timeout,
        )
        return service

    def start_api(self, extra_env: dict[str, str] | None = None) -> Service:
        env = {**self.env, "AION_PORT": str(self.api_port), **(extra_env or {})}
        self.api = self._start_api(self.api_port, env)
        return self.api

    def start_extra_api(self, extra_env: dict[str, str] | None = None) -> Service:
        """Another api process on a port of its own (any replica can serve any turn)."""
        port = free_port()
        api = self._start_api(port, {**self.env, "AION_PORT": str(port), **(extra_env or {})})
        self.extra_apis.append(api)
        return api

    def _start_api(self, port: int, env: dict[str, str]) -> Service:
        api = Service(
            f"api-{port}", ["-m", "services.api"], env, self.log_dir / f"api-{port}.log", port=port
        ).start()
        wait_for(lambda: api_ready(api.url), "the api to become ready", api, self.start_timeout)
        return api

    def start_worker(self, extra_env: dict[str, str] | None = None) -> Service:
        index = len(self.workers)
        port = free_port()  # each worker's health and metrics port
        listening = _control_listeners(self.env)
        worker = Service(
            f"worker{index}",
            ["-m", "services.worker"],
            {
                "AION_TTS_URL": self.tts_url,
                **self.env,
                "AION_WORKER_METRICS_PORT": str(port),
                **(extra_env or {}),
            },
            self.log_dir / f"worker{index}.log",
            port=port,
        ).start()
        self.workers.append(worker)
        wait_for(
            lambda: f"-{worker.pid}-" in _live_workers(self.env),
            "the worker",
            worker,
            self.start_timeout,
        )
        # Live is not yet listening: a control message (plugin change) published before the
        # worker subscribed would never reach it.
        wait_for(
            lambda: _control_listeners(self.env) >= listening + 1,
            "the worker to listen to the control channel",
            worker,
            self.start_timeout,
        )
        return worker

    def live_workers(self) -> list[Service]:
        return [w for w in self.workers if w.alive()]

    def stop(self) -> None:
        for service in [*self.extra_services, *self.workers, *self.extra_apis, self.api, self.tts]:
            if service is not None:
                service.stop()


def api_ready(url: str, path: str = "/readyz") -> bool:
    try:
        return httpx.get(f"{url}{path}", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _live_workers(env: dict[str, str]) -> str:
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        return " ".join(k.decode() for k in client.scan_iter(match="aion:worker:*"))
    finally:
        client.close()


def _control_listeners(env: dict[str, str]) -> int:
    import redis

    from shared.control import CONTROL_CHANNEL

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        ((_, count),) = client.pubsub_numsub(CONTROL_CHANNEL)
        return int(count)
    finally:
        client.close()


def start_seconds() -> float:
    return float(os.environ.get("STACK_START_SECONDS", "90"))


def wait_for(check: object, what: str, service: Service, timeout: float | None = None) -> None:
    """`timeout`: STACK_START_SECONDS from the environment, else 90 s. Generous on purpose: a
    service that dies is noticed at once, and on a machine shared by many test runs a worker's
    imports alone can take tens of seconds."""
    assert callable(check)
    if timeout is None:
        timeout = start_seconds()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.log()}")
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}:\n{service.log()[-4000:]}")


class InProcessApi:
    """The real api app, served by uvicorn on a free port in a thread of the test process."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, name="in-process-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> InProcessApi:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "api did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
