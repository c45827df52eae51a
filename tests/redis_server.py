"""A real Redis server owned by one test module, so it can be killed and restarted at will.

Append-only file on, as in compose (`--appendonly yes`, fsync every second), in a folder of its
own; a restart on the same port and folder brings back what the file holds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.stack import free_port


@dataclass
class RedisServer:
    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        log = (self.data_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.data_dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 20.0) -> None:
        """Until it answers PING (a restarted server answers LOADING while it reads its file)."""
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            while True:
                assert self.alive(), f"redis-server exited: {self.log()[-2000:]}"
                try:
                    if client.ping():
                        return
                except redis.exceptions.ConnectionError:
                    pass  # not listening yet, or still loading
                assert time.monotonic() < deadline, "redis-server did not become ready"
                time.sleep(0.02)
        finally:
            client.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: what the last second wrote may not have reached the append-only file."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def shutdown(self) -> None:
        """A clean stop (what `docker compose restart` asks for): the file is flushed first."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(20)

    def restart(self) -> None:
        self.start()

    def log(self) -> str:
        path = self.data_dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.alive():
            self.shutdown()
