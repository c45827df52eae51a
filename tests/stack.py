"""Runs AION's real services as child processes for the tests (and the benchmark)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

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
    """An api and any number of workers sharing one PostgreSQL and one Redis."""

    env: dict[str, str]
    log_dir: Path
    api_port: int = field(default_factory=free_port)
    api: Service | None = None
    workers: list[Service] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start_api(self, extra_env: dict[str, str] | None = None) -> Service:
        env = {**self.env, "AION_PORT": str(self.api_port), **(extra_env or {})}
        self.api = Service(
            "api", ["-m", "services.api"], env, self.log_dir / f"api-{self.api_port}.log"
        ).start()
        wait_for(lambda: _ready(self.api_url), "the api to become ready", self.api)
        return self.api

    def start_worker(self, extra_env: dict[str, str] | None = None) -> Service:
        index = len(self.workers)
        worker = Service(
            f"worker{index}",
            ["-m", "services.worker"],
            {**self.env, **(extra_env or {})},
            self.log_dir / f"worker{index}.log",
        ).start()
        self.workers.append(worker)
        wait_for(lambda: f"-{worker.pid}-" in _live_workers(self.env), "the worker", worker)
        return worker

    def live_workers(self) -> list[Service]:
        return [w for w in self.workers if w.alive()]

    def stop(self) -> None:
        for service in [*self.workers, self.api]:
            if service is not None:
                service.stop()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _live_workers(env: dict[str, str]) -> str:
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        return " ".join(k.decode() for k in client.scan_iter(match="aion:worker:*"))
    finally:
        client.close()


def wait_for(check: object, what: str, service: Service, timeout: float = 30.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.log()}")
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}:\n{service.log()[-4000:]}")
