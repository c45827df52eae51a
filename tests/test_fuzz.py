"""Schemathesis against the running stack: every operation of the OpenAPI document the api
serves, called with the owner's token, with valid and invalid inputs. No response may be a
server error (>= 500), carry a status the document does not list for its operation, or break
the schema the document gives it.

Every operation but console sign-in and sign-out (see below). The fuzzer changes settings, the
model, keys, prompts and plugins at random, so it runs on a stack of its own (its own PostgreSQL
database and Redis database, one api, one worker), never on the one the other tests share.
Small and seeded, so a run takes under a minute and a failure is reproduced by running it again
(fixed seed); `AION_FUZZ_SEED` and `AION_FUZZ_EXAMPLES` (per operation) change them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

from scripts import localpg
from tests.conftest import API_TOKEN
from tests.stack import Stack, run_migrations

SEED = int(os.environ.get("AION_FUZZ_SEED", "20"))
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture(scope="module")
def fuzz_stack(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    admin_url = os.environ.get("DATABASE_URL") or localpg.ensure_server()
    name = f"aion_fuzz_{uuid.uuid4().hex[:12]}"
    database_url = localpg.ensure_database(admin_url, name)
    run_migrations(database_url)
    base = urlsplit(service_env["REDIS_URL"])
    redis_db = (int(base.path.strip("/") or 0) + 2) % 16  # beside the shared stack's
    redis_url = urlunsplit(base._replace(path=f"/{redis_db}"))
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    env = {
        **service_env,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AION_AUDIO_DIR": str(tmp_path_factory.mktemp("fuzz-audio")),
        "AION_WORKSPACE_DIR": str(tmp_path_factory.mktemp("fuzz-workspace")),
    }
    running = Stack(env=env, log_dir=tmp_path_factory.mktemp("fuzz-logs"))
    try:
        running.start_api()
        running.start_worker()
        yield running
    finally:
        running.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with redis.Redis.from_url(redis_url) as client:
            client.flushdb()


@pytest.mark.timeout(600)  # every operation, 20 examples each, one at a time
def test_every_operation_keeps_its_documented_contract(fuzz_stack: Stack, tmp_path: Path) -> None:
    examples = os.environ.get("AION_FUZZ_EXAMPLES", "20")
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{fuzz_stack.api_url}/api/openapi.json",
        "--url",
        fuzz_stack.api_url,
        "--header",
        f"Authorization: Bearer {API_TOKEN}",
        # Sign-in takes a token in its body: random ones would count as failed tokens and
        # block this address (429 from then on), so the fuzzer leaves console sessions alone.
        "--exclude-path",
        "/api/session",
        # The live notices stream stays open by design: every example would wait out the
        # request timeout (tests/test_notices.py checks it, its 400 and 401 included).
        "--exclude-path",
        "/api/events",
        "--checks",
        CHECKS,
        "--max-examples",
        examples,
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",  # nothing kept between runs: each run is its seed's alone
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path
    )
    output = run.stdout + run.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    failures = output[output.find("FAILURES") : output.find("WARNINGS")]
    assert run.returncode == 0, f"{failures[:20000]}\n(whole output: {tmp_path}/schemathesis.txt)"
    # It really called every operation (a schema it could not load would test nothing).
    assert "No operations" not in output and "Operations:" in output, output[-5000:]
