"""Long-lived programs (stdio MCP servers) over a WebSocket: one message, one line.

The protocol is PROGRAM_PATH's (shared/sandbox.py). A program runs like a command (runner.py):
no shell, the workspace, the commands' bare environment plus its own variables, its own session
and process group. Every message from the worker is written to its stdin as one line; every
line of its stdout goes back as one message; its stderr is drained into the debug log (cut), so
a chatty program never blocks on it. The socket closing kills the whole group; the program
ending closes the socket with its exit code. The runner knows the live programs: the stray
sweep spares them, not what they detach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import pydantic
from starlette.websockets import WebSocket, WebSocketDisconnect

from services.sandbox.runner import CommandRunner, Program
from shared.sandbox import (
    BAD_MESSAGE,
    LINE_TOO_LONG,
    MAX_LINE_BYTES,
    PROGRAM_EXITED,
    START_FAILED,
    ProgramStart,
)

log = logging.getLogger("aion.sandbox.programs")

_START_SECONDS = 30.0
_STDERR_CHUNK = 65_536
_STDERR_LOG_CHARS = 500
_FLUSH_SECONDS = 0.5  # lines still in the pipe when the program ended
_REASON_BYTES = 123  # the most a close frame's reason may hold (RFC 6455)


@dataclass(frozen=True, slots=True)
class _End:
    """How the bridge ends: a close code and reason, or None when the worker has gone."""

    code: int | None
    reason: str = ""


_WORKER_GONE = _End(None)


async def serve_program(websocket: WebSocket, runner: CommandRunner) -> None:
    """One accepted socket (in a program slot the caller holds) until either side ends."""
    start = await _start_message(websocket)
    if isinstance(start, _End):
        await _close(websocket, start)
        return
    try:
        program = await runner.start_program([start.command, *start.args], start.env)
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        await _close(websocket, _End(START_FAILED, f"cannot start {start.command}: {why}"))
        return
    log.info("program started: %s (pid %d)", start.command, program.process.pid)
    try:
        end = await _bridge(websocket, program)
    finally:
        await runner.end_program(program)
    await _close(websocket, end)


async def _start_message(websocket: WebSocket) -> ProgramStart | _End:
    try:
        async with asyncio.timeout(_START_SECONDS):  # a silent socket holds no slot for long
            message = await websocket.receive()
    except TimeoutError:
        return _End(BAD_MESSAGE, f"no start message within {_START_SECONDS:g} s")
    if message["type"] == "websocket.disconnect":
        return _WORKER_GONE
    try:
        return ProgramStart.model_validate_json(message.get("text") or message.get("bytes") or "")
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'message'}: {err['msg']}"
            for err in exc.errors()
        )
        return _End(BAD_MESSAGE, f"bad start message: {problems}")


async def _bridge(websocket: WebSocket, program: Program) -> _End:
    process = program.process
    to_program = asyncio.create_task(_to_program(websocket, process))
    from_program = asyncio.create_task(_from_program(websocket, process))
    drain = asyncio.create_task(_drain_stderr(process))
    exited = asyncio.create_task(program.exited.wait())
    tasks = {to_program, from_program, drain, exited}
    try:
        await asyncio.wait({to_program, from_program, exited}, return_when=asyncio.FIRST_COMPLETED)
        end = _result(to_program) or _result(from_program)
        if end is not None:
            return end
        # The program exited or closed its output: what it wrote before goes out first.
        await asyncio.wait({from_program}, timeout=_FLUSH_SECONDS)
        end = _result(from_program)
        if end is not None:
            return end
        await asyncio.wait({exited}, timeout=_FLUSH_SECONDS)
        return _End(PROGRAM_EXITED, _how_it_ended(process.returncode))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _result(task: asyncio.Task[_End | None]) -> _End | None:
    return task.result() if task.done() else None


async def _to_program(websocket: WebSocket, process: asyncio.subprocess.Process) -> _End | None:
    """The worker's messages, each one line of the program's stdin. None: the program stopped
    reading (it ended)."""
    assert process.stdin is not None
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return _WORKER_GONE
        text = message.get("text")
        if text is None:
            return _End(BAD_MESSAGE, "messages are text: one line of the program's stdin each")
        line = text.encode()
        if b"\n" in line or b"\r" in line:
            return _End(BAD_MESSAGE, "a message must be one line")
        if len(line) > MAX_LINE_BYTES:
            return _End(LINE_TOO_LONG, f"a message is over {MAX_LINE_BYTES} bytes")
        try:
            process.stdin.write(line + b"\n")
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            return None


async def _from_program(websocket: WebSocket, process: asyncio.subprocess.Process) -> _End | None:
    """Each line of the program's stdout, one message. None: its output ended."""
    assert process.stdout is not None
    while True:
        try:
            line = await process.stdout.readline()
        except ValueError:  # over the reader's limit, MAX_LINE_BYTES
            return _End(LINE_TOO_LONG, f"the program wrote a line over {MAX_LINE_BYTES} bytes")
        if not line:
            return None
        try:
            await websocket.send_text(line.rstrip(b"\r\n").decode(errors="replace"))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return _WORKER_GONE


async def _drain_stderr(process: asyncio.subprocess.Process) -> None:
    assert process.stderr is not None
    while chunk := await process.stderr.read(_STDERR_CHUNK):
        if log.isEnabledFor(logging.DEBUG):
            text = chunk.decode(errors="replace").strip()
            log.debug("program %d stderr: %s", process.pid, text[:_STDERR_LOG_CHARS])


def _how_it_ended(returncode: int | None) -> str:
    if returncode is None:
        return "the program closed its output"
    if returncode < 0:
        return f"the program was killed by signal {-returncode}"
    return f"the program exited with exit code {returncode}"


async def _close(websocket: WebSocket, end: _End) -> None:
    if end.code is None:
        return
    reason = end.reason.encode()[:_REASON_BYTES].decode(errors="ignore")
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close(end.code, reason)
