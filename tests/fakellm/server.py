"""Run the fake under uvicorn: in a background thread for tests, or in the foreground.

The socket is bound before uvicorn starts, so the port is known (even port 0)
and connections queue in the kernel instead of being refused during startup.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from .app import FakeLLMApp, create_app


def bind_socket(host: str = "127.0.0.1", port: int = 0, backlog: int = 4096) -> socket.socket:
    """Bound, listening TCP socket (port 0 = a free port chosen by the kernel)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def uvicorn_config(
    app: FakeLLMApp, *, embedded: bool, log_level: str = "warning", backlog: int = 4096
) -> uvicorn.Config:
    """Fastest uvicorn settings available (httptools/uvloop when installed, no access log).

    `embedded` keeps uvicorn from reconfiguring the host process' logging (pytest's).
    """
    extra: dict[str, Any] = {"log_config": None} if embedded else {}
    return uvicorn.Config(
        app,
        loop="auto",
        http="auto",
        ws="none",
        lifespan="on",
        access_log=False,
        log_level=log_level,
        server_header=False,
        date_header=False,
        backlog=backlog,
        timeout_graceful_shutdown=2,
        **extra,
    )


class FakeLLM:
    """Fake OpenAI-compatible server on 127.0.0.1, served from a background thread.

    Use as `with FakeLLM() as fake: OpenAI(base_url=fake.base_url, api_key="x")`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        record: bool = True,
        models: list[str] | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.app = create_app(record=record, models=models)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeLLM is not started")
        return self._port

    @property
    def url(self) -> str:
        """Server root, e.g. `http://127.0.0.1:PORT` (for `/_requests`)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give the OpenAI SDK as `base_url`."""
        return f"{self.url}/v1"

    @property
    def requests(self) -> list[Any]:
        """Copy of the recorded chat request bodies, in arrival order."""
        return self.app.recorder.snapshot()

    def clear(self) -> None:
        """Forget recorded requests."""
        self.app.recorder.clear()

    def start(self, timeout: float = 10.0) -> Self:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("FakeLLM already started")
        self._sock = bind_socket(self.host, self._requested_port)
        self._port = self._sock.getsockname()[1]
        config = uvicorn_config(self.app, embedded=True)
        server = self._server = uvicorn.Server(config)
        sockets = [self._sock]

        def run() -> None:
            with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
                runner.run(server.serve(sockets=sockets))

        self._thread = threading.Thread(target=run, name=f"fakellm:{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("FakeLLM failed to start")
            time.sleep(0.002)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the thread (in-flight streams get ~2 s to finish)."""
        server, thread, sock = self._server, self._thread, self._sock
        self._server = self._thread = self._sock = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
        if sock is not None:
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    host: str = "127.0.0.1", port: int = 8900, *, record: bool = True, log_level: str = "warning"
) -> None:
    """Foreground server (benchmark use); prints the base URL once the socket listens."""
    sock = bind_socket(host, port)
    app = create_app(record=record)
    server = uvicorn.Server(uvicorn_config(app, embedded=False, log_level=log_level))
    print(f"fakellm listening on http://{host}:{sock.getsockname()[1]}/v1", flush=True)
    server.run(sockets=[sock])
