"""Runs the extraction child (`child`) under limits: address space (RLIMIT_AS), CPU seconds,
a wall-clock timeout after which it is killed, no core dumps, and an environment with nothing
of the worker's (no keys, no database URL). A crash, a kill or garbage on stdout is reported as
a file AION could not read; the worker itself is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import resource
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from services.worker.documents.collect import Unreadable

_REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float
    memory_bytes: int
    max_chars: int


def _limit(limits: Limits) -> None:
    """In the child, before exec: what no file can make it exceed."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = int(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def child_environment() -> dict[str, str]:
    """Nothing of the worker's own (keys, the database URL): only what Python needs."""
    return {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONHASHSEED": "random"}


async def extract(mime: str, content: bytes, limits: Limits) -> dict[str, Any]:
    """{"segments", "pages", "truncated"} of the file; Unreadable with the reason otherwise."""
    header = orjson.dumps({"mime": mime, "max_chars": limits.max_chars}) + b"\n"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-E",
        "-s",
        "-m",
        "services.worker.documents.child",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=_REPO,
        env=child_environment(),
        preexec_fn=functools.partial(_limit, limits),
    )
    try:
        async with asyncio.timeout(limits.seconds):
            stdout, _ = await process.communicate(header + content)
    except TimeoutError:
        raise Unreadable(
            f"Reading the file took longer than {limits.seconds:g} s; it was stopped."
        ) from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return _result(process.returncode, stdout)


def _result(returncode: int | None, stdout: bytes) -> dict[str, Any]:
    try:
        result: dict[str, Any] = orjson.loads(stdout) if stdout else {}
    except orjson.JSONDecodeError:
        result = {}
    if "error" in result:
        raise Unreadable(str(result["error"]))
    if returncode == 0 and "segments" in result:
        return result
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise Unreadable("Reading the file used more time than AION allows; it was stopped.")
    if returncode == 1:  # Python's own exit on an uncaught MemoryError and the like
        raise Unreadable("Reading the file needs more memory than AION allows.")
    raise Unreadable("The reader crashed on this file (damaged or hostile); it was stopped.")
