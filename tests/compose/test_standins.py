"""The stand-ins do what the official images do, for what our Dockerfile and compose file use.

The first run builds the stand-ins (a few minutes); later runs find them current by their
recipe label, and the python build check reuses Docker's layer cache, so this module is quick.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.compose.engine import docker_env
from tests.compose.images import remove_container
from tests.compose.proc import StandinError, output_of, run
from tests.compose.recipes import PGVECTOR, PYTHON, STANDINS
from tests.compose.standins import ensure_standin, ensure_standins, recipe_hash

# The first build of every stand-in takes minutes, more than the suite's per-test timeout.
pytestmark = [pytest.mark.compose, pytest.mark.timeout(1800)]

READY_SECONDS = 60


@pytest.fixture(scope="module")
def standins() -> dict[str, str]:
    return ensure_standins()


@pytest.fixture
def network() -> Iterator[str]:
    """A user-defined network: containers reach each other by name, as in compose."""
    name = f"aion-standin-test-{uuid.uuid4().hex[:8]}"
    run(["docker", "network", "create", name], "creating a test network")
    yield name
    output_of(["docker", "network", "rm", name])


@pytest.fixture
def containers() -> Iterator[Callable[[str], str]]:
    """Unique container names, each removed (with its volumes) after the test."""
    names: list[str] = []

    def new(role: str) -> str:
        names.append(f"aion-standin-test-{role}-{uuid.uuid4().hex[:8]}")
        return names[-1]

    yield new
    for name in names:
        remove_container(name)


def wait_for(ready: Callable[[], bool], what: str, seconds: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready within {seconds:.0f}s")
        time.sleep(0.25)


def logs(name: str) -> str:
    return output_of(["docker", "logs", name]) or ""


def test_python_builds_with_pip_and_apt(standins: dict[str, str], tmp_path: Path) -> None:
    """A Dockerfile like ours (users, pip into the system, venv, apt-get) builds on it."""
    (tmp_path / "Dockerfile").write_text(
        "# syntax=docker/dockerfile:1\n"
        "ARG PYTHON_IMAGE=python:3.11-slim\n"
        "FROM ${PYTHON_IMAGE}\n"
        "RUN groupadd --system --gid 10001 aion && useradd --system --uid 10001 --gid aion"
        " --home-dir /app --no-create-home --shell /usr/sbin/nologin aion\n"
        "RUN pip install --no-cache-dir six==1.16.0\n"
        "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir six==1.16.0\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends jq"
        " && rm -rf /var/lib/apt/lists/*\n"
        "USER aion\n"
        'CMD ["sh", "-c", "python -c \'import six, sys; print(sys.version_info[:2])\'; id -u;'
        " jq --version; /opt/venv/bin/python -c 'import six' && echo venv-ok\"]\n"
    )
    image = "aion-standin-test/python-check"
    run(
        [
            "docker", "build", "--build-arg", f"PYTHON_IMAGE={standins[PYTHON.reference]}",
            "--tag", image, str(tmp_path),
        ],
        "building FROM the python stand-in",
        env=docker_env(buildkit=False),
        timeout=900,
    )  # fmt: skip
    out = run(["docker", "run", "--rm", image], "running the python check image").split()
    assert out[:2] == ["(3,", "11)"]
    assert out[2] == "10001"
    assert out[3].startswith("jq-")
    assert out[4] == "venv-ok"


def test_postgres_utf8_pgvector_password_and_restart(
    standins: dict[str, str], network: str, containers: Callable[[str], str]
) -> None:
    """Like pgvector/pgvector: env-made user/db, UTF-8, pgvector, scram over TCP, data kept."""
    image = standins[PGVECTOR.reference]
    server = containers("pg")
    run(
        [
            "docker", "run", "-d", "--name", server, "--network", network, "--shm-size", "1g",
            "-e", "POSTGRES_USER=aion", "-e", "POSTGRES_DB=aion", "-e", "POSTGRES_PASSWORD=pw",
            image, "postgres", "-c", "shared_buffers=512MB", "-c", "maintenance_work_mem=512MB",
        ],
        "starting the postgres stand-in",
    )  # fmt: skip

    def ready() -> bool:
        # Over TCP: the init phase's private server listens on the unix socket only.
        probe = ["docker", "exec", server, "pg_isready", "-h", "127.0.0.1", "-U", "aion"]
        return output_of(probe) is not None

    def psql(*sql: str, password: str = "pw") -> list[str]:
        """Run statements (each its own -c) from another container, over TCP, with a password."""
        commands = [arg for statement in sql for arg in ("-c", statement)]
        return run(
            [
                "docker", "run", "--rm", "--network", network, "-e", f"PGPASSWORD={password}",
                image, "psql", "-h", server, "-U", "aion", "-d", "aion", "-At", *commands,
            ],
            f"psql {sql!r}",
        ).splitlines()  # fmt: skip

    wait_for(ready, f"postgres ({logs(server)})")
    assert psql(
        "SHOW server_encoding",
        "SHOW shared_buffers",
        "CREATE EXTENSION vector",
        "CREATE TABLE kept (v vector(3))",
        "INSERT INTO kept VALUES ('[1,2,3]')",
        "SELECT v <-> '[1,2,4]' FROM kept",
    ) == ["UTF8", "512MB", "CREATE EXTENSION", "CREATE TABLE", "INSERT 0 1", "1"]
    with pytest.raises(StandinError, match="password authentication failed"):
        psql("SELECT 1", password="wrong")
    uid = run(["docker", "exec", server, "id", "-u", "postgres"], "postgres uid").strip()
    assert f"Uid:\t{uid}\t" in run(["docker", "exec", server, "cat", "/proc/1/status"], "pid 1")

    run(["docker", "restart", server], "restarting postgres")
    wait_for(ready, "postgres after a restart")
    assert psql("SELECT count(*) FROM kept") == ["1"]
    assert logs(server).count("init process complete") == 1


def test_redis_password_from_another_container(
    standins: dict[str, str], network: str, containers: Callable[[str], str]
) -> None:
    """Like redis:7: reachable from other containers with --requirepass, run as redis."""
    image = standins["redis:7-alpine"]
    server = containers("redis")
    run(
        [
            "docker", "run", "-d", "--name", server, "--network", network, image,
            "redis-server", "--appendonly", "yes", "--requirepass", "x",
        ],
        "starting the redis stand-in",
    )  # fmt: skip

    def cli(*args: str) -> str | None:
        command = ["docker", "run", "--rm", "--network", network, image, "redis-cli", "-h", server]
        return output_of([*command, *args])

    wait_for(lambda: cli("-a", "x", "--no-auth-warning", "ping") == "PONG\n", "redis")
    assert "NOAUTH" in (cli("ping") or "")
    status = run(["docker", "exec", server, "cat", "/proc/1/status"], "redis pid 1 status")
    assert "Uid:\t0\t" not in status
    files = run(["docker", "exec", server, "ls", "-l", "/data"], "listing /data")
    assert "appendonlydir" in files and " redis " in files


def test_node_has_node_and_npm(standins: dict[str, str]) -> None:
    image = standins["node:20-slim"]
    version = run(["docker", "run", "--rm", image, "-p", "process.version"], "node -p")
    assert version.startswith("v20.")
    assert run(["docker", "run", "--rm", image, "npm", "--version"], "npm --version").strip()


def test_current_standins_are_not_rebuilt(standins: dict[str, str]) -> None:
    """A second ensure finds every image current by its recipe label."""
    assert not any(ensure_standin(s) for s in STANDINS)


def test_recipe_hash_follows_the_recipe() -> None:
    changed = dataclasses.replace(PYTHON, changes=(*PYTHON.changes, "ENV EXTRA=1"))
    assert recipe_hash(changed) != recipe_hash(PYTHON)
    assert recipe_hash(PYTHON) == recipe_hash(dataclasses.replace(PYTHON))
