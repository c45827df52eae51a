"""`QuietServer` (shared/serve.py): uvicorn housekeeping once a second, yet a prompt stop."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.serve import QuietServer
from tests.helpers import eventually


def _app() -> Starlette:
    return Starlette(routes=[Route("/", lambda _: PlainTextResponse("ok"))])


class CountingServer(QuietServer):
    ticks = 0

    async def on_tick(self, counter: int) -> bool:
        self.ticks += 1
        return await super().on_tick(counter)


async def test_it_ticks_once_a_second_serves_and_stops_at_once() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(), log_config=None, access_log=False, lifespan="off")
    server = CountingServer(config)
    task = asyncio.create_task(server.serve([sock]))
    try:
        await eventually(lambda: server.started, "the server started")
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/")
        assert response.text == "ok"
        assert response.headers["date"]  # the once-a-second part of the tick still ran
        before = server.ticks
        await asyncio.sleep(2.5)  # what is measured here is how often it wakes by itself
        assert server.ticks - before <= 4  # uvicorn's own loop: 25
        stopping = time.monotonic()
        server.stop()
        await asyncio.wait_for(task, 10)
        assert time.monotonic() - stopping < 0.5  # not a whole tick
    finally:
        sock.close()
