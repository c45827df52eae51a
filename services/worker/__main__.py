"""`python -m services.worker`: run a worker; `--check` is the container health check."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

from redis.asyncio import Redis

from services.worker.settings import WorkerSettings
from shared.turn_keys import WORKER_KEY_PREFIX


async def _has_live_worker_on_this_host(redis_url: str) -> bool:
    redis = Redis.from_url(redis_url)
    try:
        pattern = f"{WORKER_KEY_PREFIX}{socket.gethostname()}-*"
        async for _ in redis.scan_iter(match=pattern, count=1000):
            return True
        return False
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 0 if a worker here is alive")
    args = parser.parse_args()
    settings = WorkerSettings()
    if args.check:
        sys.exit(0 if asyncio.run(_has_live_worker_on_this_host(settings.redis_url)) else 1)
    # Imported here: the health check above runs every few seconds under the container's time
    # limit, and the worker proper (providers' SDKs, plugins, the embedding model) takes seconds
    # to import.
    import uvloop

    from services.worker.runner import build_worker
    from shared.hardening import make_non_dumpable
    from shared.logging import setup_logging

    # It holds the vault key and provider keys: no process of the same uid (a Claude CLI, a
    # plugin's helper) may read its environment or memory through /proc.
    make_non_dumpable()
    # The workspace is shared with the sandbox's user through the group (Dockerfile): what the
    # files tools write stays writable for the commands, and the other way round.
    os.umask(0o002)
    setup_logging(settings.aion_log_level, settings.aion_log_json, settings.secret_values())
    # uvloop: the worker's work is mostly event-loop wake-ups and socket I/O (~15% less CPU).
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    build_worker(settings).run()


if __name__ == "__main__":
    main()
