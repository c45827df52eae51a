"""A local Redis with a password for `make dev` when REDIS_URL is unset.

Compose runs its Redis with a generated password; `make dev` does the same on loopback, so that
nothing else on the machine can queue a "yes" on a channel or read a turn's events. The password
is the one shared/secret_files.py generated (its config file holds `requirepass`), the data
(AOF on, as in compose) lives in the checkout, and the server keeps running between uses, like
the local PostgreSQL.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

DEFAULT_PORT = 6380  # not 6379: a Redis of the machine's own may listen there
START_SECONDS = 10.0


class LocalRedisError(RuntimeError):
    """Why the local Redis cannot be used; the message says what to do."""


def url(password: str, port: int) -> str:
    return f"redis://:{quote(password, safe='')}@127.0.0.1:{port}/0"


def _answers(address: str) -> bool:
    client = redis.Redis.from_url(address, socket_connect_timeout=0.5, socket_timeout=1.0)
    try:
        return bool(client.ping())
    except (redis.AuthenticationError, redis.ResponseError) as exc:
        # "AUTH ... called without any password configured", or the wrong password.
        unset = "without any password" in str(exc)
        what = "without a password" if unset else "with another password"
        raise LocalRedisError(
            f"a Redis {what} listens on that port; stop it, set REDIS_URL, or choose "
            "another AION_DEV_REDIS_PORT"
        ) from None
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def ensure_server(conf: Path, password: str, data_dir: Path, port: int = DEFAULT_PORT) -> str:
    """Start (or reuse) the server configured by `conf` on loopback; return its URL."""
    address = url(password, port)
    if _answers(address):
        return address
    binary = shutil.which("redis-server")
    if binary is None:
        raise LocalRedisError("redis-server is not installed (apt-get install redis-server)")
    data_dir.mkdir(parents=True, exist_ok=True)
    # The password stays in the config file (mode 600), never on the command line.
    subprocess.run(
        [
            binary, str(conf), "--port", str(port), "--bind", "127.0.0.1", "--dir",
            str(data_dir), "--appendonly", "yes", "--daemonize", "yes", "--logfile",
            str(data_dir / "redis.log"), "--pidfile", str(data_dir / "redis.pid"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + START_SECONDS
    while not _answers(address):
        if time.monotonic() > deadline:
            raise LocalRedisError(f"redis-server did not answer; see {data_dir / 'redis.log'}")
        time.sleep(0.1)
    return address
