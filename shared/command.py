"""Run one untrusted program: its own session, a given environment, a time limit, capped output.

Both sandbox backends use it: the `sandbox` service for each command it is asked to run, and
the worker's bubblewrap backend for `bwrap` itself. When the program runs out of time, is
cancelled, or has exited, its whole process group is killed, so nothing it started in the
background lives on in that group (the sandbox service also sweeps up what left the group).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.sandbox import CommandResult

HEAD_BYTES = 6_000  # of the output kept from the start...
TAIL_BYTES = 6_000  # ...and from the end
_READ_CHUNK = 65_536
_DRAIN_SECONDS = 0.5  # output still in the pipe after the program exited


class CappedOutput:
    """Keeps the first HEAD_BYTES and the last TAIL_BYTES of a stream."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = HEAD_BYTES - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            del self.tail[:-TAIL_BYTES]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + len(self.tail)

    def text(self) -> str:
        head = self.head.decode(errors="replace")
        tail = self.tail.decode(errors="replace")
        if not self.truncated:
            return head + tail
        cut = self.total - len(self.head) - len(self.tail)
        return f"{head}\n[… {cut} bytes of output cut …]\n{tail}"


async def run_program(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], time_limit: float
) -> CommandResult:
    """Run `argv` (no shell of ours) and return how it ended; see the module's docstring."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own session and process group, to kill all of it
    )
    output = CappedOutput()
    reader = asyncio.create_task(_read_all(process, output))
    timed_out = False
    try:
        try:
            async with asyncio.timeout(time_limit):
                await process.wait()
        except TimeoutError:
            timed_out = True
        if not timed_out:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_DRAIN_SECONDS):
                    await asyncio.shield(reader)
    finally:
        # Also on cancellation (the tool's own limit, a cancelled turn, a closed connection).
        kill_group(process.pid)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return CommandResult(
        exit_code=None if timed_out else process.returncode,
        output=output.text(),
        output_bytes=output.total,
        truncated=output.truncated,
        timed_out=timed_out,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )


async def _read_all(process: asyncio.subprocess.Process, output: CappedOutput) -> None:
    assert process.stdout is not None
    while chunk := await process.stdout.read(_READ_CHUNK):
        output.add(chunk)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
