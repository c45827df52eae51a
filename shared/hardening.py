"""Process hardening at start, through prctl(2) (Linux only; elsewhere these do nothing).

Non-dumpable: another process of the same uid can no longer read this one's
/proc/<pid>/environ or memory, nor attach a debugger (only CAP_SYS_PTRACE can), and no core
dump holds its keys. The worker holds the vault key and provider keys; the sandbox service runs
untrusted commands as its own uid.
"""

from __future__ import annotations

import ctypes
import sys

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    result = int(libc.prctl(option, value, 0, 0, 0))
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}) failed")
    return result


def make_non_dumpable() -> bool:
    """Mark this process non-dumpable; False where that does not exist (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    _prctl(PR_SET_DUMPABLE, 0)
    return True


def is_dumpable() -> bool:
    return not sys.platform.startswith("linux") or _prctl(PR_GET_DUMPABLE) == 1


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process instead of init, so it can find
    (and kill) what a command left running after it left its process group."""
    if not sys.platform.startswith("linux"):
        return False
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    return True
