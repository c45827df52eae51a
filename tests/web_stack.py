"""An api and a worker of their own, with AION_SEARCH_URL set (the main stack has no search
backend, and must not: a test checks that web_search is then missing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis

from tests.conftest import API_TOKEN
from tests.stack import Stack


@asynccontextmanager
async def stack_with_search(
    service_env: dict[str, str], search_url: str, log_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of that api; the stack has a Redis database of its own, same PostgreSQL."""
    parts = urlsplit(service_env["REDIS_URL"])
    own_redis = urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 2}"))
    redis.Redis.from_url(own_redis).flushdb()
    env = {**service_env, "REDIS_URL": own_redis, "AION_SEARCH_URL": search_url}
    own = Stack(env=env, log_dir=log_dir)
    try:
        own.start_api()
        own.start_worker()
        async with httpx.AsyncClient(
            base_url=own.api_url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
        ) as http:
            yield http
    finally:
        own.stop()
        redis.Redis.from_url(own_redis).flushdb()
