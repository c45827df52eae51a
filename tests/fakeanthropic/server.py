"""Serve a fake ASGI app from a background thread on 127.0.0.1 (any of the tests' fakes)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from tests.fakellm.server import bind_socket

from .app import FakeAnthropicApp


class ThreadedServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        sock = bind_socket("127.0.0.1", 0)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="off", log_level="warning"
        )
        server = self._server = uvicorn.Server(config)

        def run() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._thread = threading.Thread(target=run, name=f"fake:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class FakeAnthropic(ThreadedServer):
    """`base_url` is what the anthropic SDK takes (it adds /v1/messages)."""

    app: FakeAnthropicApp

    def __init__(self) -> None:
        super().__init__(FakeAnthropicApp())

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def requests(self) -> list[dict[str, Any]]:
        return list(self.app.requests)
