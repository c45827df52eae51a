"""The real docker-compose.yml, built and run by the real Compose against a local engine.

A user's first `docker compose up`, with this repository's test overlay (the fake LLM and the
fake Telegram Bot API as containers) and the base images replaced by local stand-ins (no
registry is reachable here). Everything goes through the `docker compose` command line, as a
user would type it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

REPO = Path(__file__).resolve().parents[2]
COMPOSE_BIN = Path(sys.executable).parent / "docker-compose"
OVERLAY = Path(__file__).resolve().parent / "docker-compose.test.yml"
PROJECT = "aion-composetest"
APP_SERVICES = ("api", "worker", "tts", "telegram", "sandbox")
HEALTHY_WITHIN_SECONDS = 120.0

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Callable[[], T | None], what: str, timeout: float) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:.0f} s")
        time.sleep(0.5)


@dataclass
class ComposeStack:
    """One compose project; `env` is all the configuration a user would put in `.env`."""

    images: dict[str, str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.env = {
            "AION_PYTHON_IMAGE": self.images["python:3.11-slim"],
            "AION_NODE_IMAGE": self.images["node:20-slim"],
            "AION_POSTGRES_IMAGE": self.images["pgvector/pgvector:pg16"],
            "AION_REDIS_IMAGE": self.images["redis:7-alpine"],
            "AION_BIND": "127.0.0.1",
            "AION_PORT": str(self.api_port),
            "AION_LOG_JSON": "true",
            "OPENAI_BASE_URL": "http://fakellm:8900/v1",
            "OPENAI_API_KEY": "sk-compose-test-not-a-real-key",
            "AION_MODEL": "fake-model",
            "AION_PROVIDER_MAX_RETRIES": "0",
            "TELEGRAM_API_BASE_URL": "http://faketelegram:8081/bot",
            **self.env,
        }

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`docker compose -p aion-composetest -f docker-compose.yml -f <overlay> ARGS`."""
        command = [
            str(COMPOSE_BIN),
            *("-p", PROJECT, "--project-directory", str(REPO)),
            *("-f", str(REPO / "docker-compose.yml"), "-f", str(OVERLAY)),
            *args,
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.log_dir),
            # The classic builder: BuildKit would fetch its Dockerfile frontend from a registry.
            "DOCKER_BUILDKIT": "0",
        }
        result = subprocess.run(
            command,
            env={**env, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
            )
        return result

    def build(self) -> None:
        self.compose("build", timeout=1800)

    def up(self) -> float:
        """`up -d`, then wait until every long-running service is healthy; returns the time."""
        started = time.monotonic()
        self.compose("up", "-d", timeout=600)
        eventually(self.all_healthy, "every service healthy", HEALTHY_WITHIN_SECONDS)
        return time.monotonic() - started

    def down(self, *, volumes: bool = False) -> None:
        self.save_logs()
        self.compose("down", *(["-v"] if volumes else []), "--remove-orphans", timeout=300)

    def states(self) -> dict[str, dict[str, str]]:
        out = self.compose("ps", "--all", "--format", "json").stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(rows) == 1 and isinstance(rows[0], list):  # older Compose prints one array
            rows = rows[0]
        return {row["Service"]: row for row in rows}

    def all_healthy(self) -> bool:
        states = self.states()
        waiting = [
            name
            for name in ("postgres", "redis", *APP_SERVICES)
            if states.get(name, {}).get("Health") != "healthy"
        ]
        failed = [
            name
            for name in ("secrets", "migrate")
            if states.get(name, {}).get("State") == "exited"
            and states[name].get("ExitCode") not in (0, "0")
        ]
        if failed:
            raise AssertionError(f"{failed} failed:\n{self.logs(*failed)}")
        return not waiting

    def token(self) -> str:
        """The owner's token the way the README says to get it."""
        return self.compose("exec", "-T", "api", "aion", "token").stdout.strip()

    def port_of(self, service: str, port: int) -> int:
        out = self.compose("port", service, str(port)).stdout.strip()
        return int(out.rsplit(":", 1)[1])

    def logs(self, *services: str) -> str:
        return self.compose("logs", "--no-color", *services, check=False).stdout[-20000:]

    def save_logs(self) -> None:
        stamp = time.strftime("%H%M%S")
        (self.log_dir / f"compose-{stamp}.log").write_text(self.logs())

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
