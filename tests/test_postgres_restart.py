"""PostgreSQL restarted under a running turn, on real processes: a PostgreSQL server of this
module's own, stopped mid-answer (cleanly, or as if it crashed) and started again, under the real
api and worker, which are never restarted.

Each test says what the client saw, what PostgreSQL holds after, and that the model was asked
once (no turn ran twice).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from scripts import localpg
from tests.fakellm import FakeLLM
from tests.fault_helpers import (
    Turn,
    api_and_worker,
    counted,
    model_calls,
    owner_client,
    stored_messages,
)
from tests.helpers import chat, eventually
from tests.pg_server import PostgresServer
from tests.redis_server import RedisServer
from tests.stack import Stack, run_migrations

DB_WAIT_SECONDS = 5  # the default: how long a request waits for a connection


@pytest.fixture(scope="module")
def own_pg() -> Iterator[PostgresServer]:
    # Not under pytest's temporary folder: pytest makes its root private again whenever a test
    # session starts, and the server runs as a user of its own that must reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="aion-pg-restart-"))
    server = PostgresServer(folder / "data").start()
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def own_database(own_pg: PostgresServer) -> str:
    url = localpg.ensure_database(own_pg.admin_url, "aion_restart")
    run_migrations(url)
    return url


@pytest.fixture(scope="module")
def pg_stack(
    service_env: dict[str, str], own_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # A Redis of its own too, so no other stack's worker takes this stack's turns.
    redis = RedisServer(tmp_path_factory.mktemp("pg-restart-redis")).start()
    env = {**service_env, "DATABASE_URL": own_database, "REDIS_URL": redis.url}
    try:
        with api_and_worker(env, tmp_path_factory.mktemp("pg-restart-logs")) as stack:
            yield stack
    finally:
        redis.stop()


@pytest.fixture
async def http(pg_stack: Stack, own_pg: PostgresServer) -> AsyncIterator[httpx.AsyncClient]:
    if not own_pg.running():  # a failed test may have left it down
        own_pg.restart_stopped()
    async with owner_client(pg_stack) as client:
        yield client


def worker_noticed(worker_log: str) -> int:
    """How often the worker logged a turn's database step failing (retried, or fatal)."""
    return worker_log.count("PostgreSQL unreachable") + worker_log.count("turn failed")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgres_restarted_mid_turn_the_answer_is_stored_once_and_all_recovers(
    http: httpx.AsyncClient,
    pg_stack: Stack,
    own_pg: PostgresServer,
    own_database: str,
    fake_llm: FakeLLM,
    mode: str,
) -> None:
    """PostgreSQL stops while the model streams its answer (`fast`: a clean stop that cuts
    every session; `immediate`: as if it crashed) and comes back after the turn tried to store
    the answer. Meanwhile a client reading the history gets `503` naming PostgreSQL, within the
    connection wait. The turn's client sees the whole answer and `done`; the first history read
    after the restart works (no restart of the api or the worker); PostgreSQL holds the question
    and the answer once each, then the next exchange."""
    channel = f"pg-restart-{uuid.uuid4().hex[:8]}"
    marker = uuid.uuid4().hex[:8]
    turn = await Turn.open(http, f"[[tokens=30 gap=100]] pg {marker}", channel)
    await turn.read_until(5)  # the question is stored, the answer streams
    worker = pg_stack.workers[0]
    before = worker_noticed(worker.log())

    own_pg.stop(mode)
    asked = time.monotonic()
    down = await http.get("/api/history", params={"channel": channel})
    assert down.status_code == 503, down.text
    assert down.json() == {
        "error": "ServiceUnavailable",
        "detail": "PostgreSQL is unavailable; try again shortly.",
    }
    assert time.monotonic() - asked < DB_WAIT_SECONDS + 5
    await eventually(
        lambda: worker_noticed(worker.log()) > before,
        "the turn to try to store its answer without PostgreSQL",
        timeout=60,
    )
    own_pg.restart_stopped()

    events = await turn.read_to_end()
    assert turn.last.type == "done", turn.last
    assert turn.last.data["full_response"] == counted(30)

    back = await http.get("/api/history", params={"channel": channel})
    assert back.status_code == 200, back.text
    assert [m["content"] for m in back.json()["messages"]] == [
        f"[[tokens=30 gap=100]] pg {marker}",
        counted(30),
    ]
    _, next_events = await chat(http, f"next {marker}", channel)
    assert next_events[-1].type == "done", next_events[-1]
    assert await stored_messages(own_database, channel) == [
        ("user", f"[[tokens=30 gap=100]] pg {marker}"),
        ("assistant", counted(30)),
        ("user", f"next {marker}"),
        ("assistant", f"You said: next {marker}"),
    ]
    assert model_calls(fake_llm, f"pg {marker}") == 1
    assert len([e for e in events if e.type == "done"]) == 1
