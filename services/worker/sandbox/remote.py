"""The sandbox service backend: the `sandbox` container runs each command for the worker.

A small protocol (shared/sandbox.py) on a network only the worker and the sandbox share, with
the worker's own credential. The service enforces the time limit and kills the command's
process group; closing the connection (the tool's own limit, a cancelled turn) kills it too.
A long-lived program (a stdio MCP server) runs over a WebSocket, `open_program`: a line of its
stdin or stdout per message, killed with its whole group when the socket closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import httpx

from services.worker.sandbox import SandboxError
from shared.sandbox import (
    MAX_LINE_BYTES,
    PROGRAM_PATH,
    RUN_PATH,
    CommandResult,
    ProgramStart,
    RunRequest,
)

# Beyond the command's own limit: the service answers as soon as it has killed it.
_GRACE_SECONDS = 10.0
_CONNECT_SECONDS = 10.0
_HEARTBEAT_SECONDS = 30.0  # a sandbox gone without a word is noticed within this
WRONG_CREDENTIAL = (
    "the sandbox service refused the worker's credential: AION_SANDBOX_TOKEN does not match "
    "the sandbox's AION_SANDBOX_TOKEN_SHA256"
)


class ProgramChannel:
    """A program's stdin and stdout in the sandbox, one line per message."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self.ended: str | None = None  # how it ended, once `receive` gave None

    async def send(self, line: str) -> None:
        """One line (no line break in it) to the program's stdin; ConnectionError once the
        socket is closed."""
        try:
            await self._ws.send_str(line)
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise ConnectionError(f"the sandbox connection is closed ({exc})") from exc

    async def receive(self) -> str | None:
        """The next line of its stdout, without the line break; None once the program ended
        or the connection failed (`ended` says how)."""
        message = await self._ws.receive()
        if message.type == aiohttp.WSMsgType.TEXT:
            return str(message.data)
        if message.type == aiohttp.WSMsgType.BINARY:
            return bytes(message.data).decode(errors="replace")
        if message.type == aiohttp.WSMsgType.CLOSE:
            self.ended = f"{message.extra or 'closed'} (code {message.data})"
        elif message.type == aiohttp.WSMsgType.ERROR:
            self.ended = f"the connection failed: {message.data}"
        else:
            self.ended = f"the connection closed (code {self._ws.close_code})"
        return None


class RemoteSandbox:
    name = "service"

    def __init__(self, url: str, token: str) -> None:
        self._url = url
        self._token = token
        # An internal service: never through a proxy from the environment.
        self._http = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=httpx.Timeout(_CONNECT_SECONDS),
        )

    async def run(self, command: str, *, time_limit: float) -> CommandResult:
        body = RunRequest(command=command, timeout_seconds=time_limit)
        try:
            response = await self._http.post(
                RUN_PATH,
                content=body.model_dump_json(),
                headers={"Content-Type": "application/json"},
                timeout=httpx.Timeout(_CONNECT_SECONDS, read=time_limit + _GRACE_SECONDS),
            )
        except httpx.HTTPError as exc:
            raise SandboxError(
                f"the sandbox service ({self._url}) did not answer: {type(exc).__name__}"
            ) from exc
        if response.status_code == 401:
            raise SandboxError(WRONG_CREDENTIAL)
        if response.status_code == 429:
            raise SandboxError("the sandbox is running as many commands as it allows; try later")
        if response.status_code != 200:
            raise SandboxError(f"the sandbox service answered HTTP {response.status_code}")
        return CommandResult.model_validate_json(response.content)

    @asynccontextmanager
    async def open_program(self, start: ProgramStart) -> AsyncIterator[ProgramChannel]:
        """Start `start` in the sandbox; leaving the context kills it (and what it started).
        Raises SandboxError when the sandbox does not take it."""
        url = self._url.rstrip("/") + PROGRAM_PATH
        timeout = aiohttp.ClientTimeout(total=None, connect=_CONNECT_SECONDS)
        async with aiohttp.ClientSession(trust_env=False, timeout=timeout) as http:
            try:
                ws = await http.ws_connect(
                    url,
                    headers={"Authorization": f"Bearer {self._token}"},
                    max_msg_size=MAX_LINE_BYTES,
                    heartbeat=_HEARTBEAT_SECONDS,
                )
            except aiohttp.WSServerHandshakeError as exc:
                raise SandboxError(_program_refusal(exc.status)) from exc
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise SandboxError(
                    f"the sandbox service ({self._url}) did not answer: {type(exc).__name__}"
                ) from exc
            try:
                await ws.send_str(start.model_dump_json())
                yield ProgramChannel(ws)
            finally:
                await ws.close()

    async def aclose(self) -> None:
        await self._http.aclose()


def _program_refusal(status: int) -> str:
    if status == 401:
        return WRONG_CREDENTIAL
    if status == 429:
        return (
            "the sandbox is running as many MCP servers as it allows "
            "(AION_SANDBOX_MAX_SERVERS); another one starts when one is removed or disabled"
        )
    if status in (403, 404):  # a sandbox without the route refuses every WebSocket
        return (
            f"the sandbox service does not run programs (HTTP {status} for {PROGRAM_PATH}): "
            "its image is older than the worker's, or lacks the `websockets` package"
        )
    return f"the sandbox service refused the program with HTTP {status}"
