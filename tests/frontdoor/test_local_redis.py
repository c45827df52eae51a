"""`make dev`'s own Redis: on loopback, with the password compose would generate, AOF on."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from scripts import localredis
from shared.secret_files import Layout, distribute, load_or_generate
from tests.stack import free_port


@pytest.fixture
def dev_redis(tmp_path: Path) -> Iterator[tuple[str, str, int, Path]]:
    layout = Layout(tmp_path / "secrets", profile="dev")
    values = load_or_generate(layout, {}, None)
    distribute(layout, values, own=False)
    port = free_port()
    conf = layout.service_dir("redis") / "redis.conf"
    address = localredis.ensure_server(conf, values["redis_password"], tmp_path / "redis", port)
    try:
        yield address, values["redis_password"], port, conf
    finally:
        client = redis.Redis.from_url(address)
        with contextlib.suppress(redis.ConnectionError):  # gone: what shutdown does
            client.shutdown(nosave=True)
        client.close()


def test_it_answers_only_with_the_generated_password(
    dev_redis: tuple[str, str, int, Path], tmp_path: Path
) -> None:
    address, password, port, conf = dev_redis
    with redis.Redis.from_url(address) as client:
        assert client.ping() and client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    with (
        redis.Redis(host="127.0.0.1", port=port) as anonymous,
        pytest.raises(redis.AuthenticationError),
    ):
        anonymous.ping()
    # Run again (the next `make dev`): the running server is reused, not started twice.
    again = localredis.ensure_server(conf, password, tmp_path / "redis", port)
    assert again == address


def test_a_redis_without_a_password_there_is_refused_with_a_clear_message(
    tmp_path: Path,
) -> None:
    import subprocess

    port = free_port()
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--daemonize", "yes", "--dir", str(tmp_path)],
        check=True,
    )  # fmt: skip
    try:
        with redis.Redis(host="127.0.0.1", port=port) as plain:  # daemonized: wait until it listens
            deadline = time.monotonic() + 10
            while not _pings(plain):
                assert time.monotonic() < deadline, "the plain redis-server never answered"
                time.sleep(0.05)
        with pytest.raises(localredis.LocalRedisError, match="without a password"):
            localredis.ensure_server(tmp_path / "none.conf", "pw", tmp_path / "data", port)
    finally:
        with (
            redis.Redis(host="127.0.0.1", port=port) as plain,
            contextlib.suppress(redis.ConnectionError),
        ):
            plain.shutdown(nosave=True)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
