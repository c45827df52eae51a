"""Subprocess helpers: every failure names the step that failed and shows the tool's own words."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

# How much of a failing command's output an error message quotes (its end is what explains it).
_TAIL_CHARS = 4000


class StandinError(RuntimeError):
    """A step of preparing the engine or a stand-in image failed."""


def tail(text: str, limit: int = _TAIL_CHARS) -> str:
    """The last `limit` characters of `text`, where tools print the reason they stopped."""
    return text if len(text) <= limit else "..." + text[-limit:]


def run(
    args: Sequence[str],
    what: str,
    *,
    timeout: float = 600,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run `args` and return its stdout; raise StandinError saying `what` failed and why.

    Output is captured, not shown: a build prints a lot and it only matters when it fails.
    """
    try:
        done = subprocess.run(
            list(args),
            input=None if input_text is None else input_text.encode(),
            stdin=subprocess.DEVNULL if input_text is None else None,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StandinError(f"{what}: {args[0]} is not installed ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise StandinError(f"{what}: `{' '.join(args)}` took longer than {timeout:.0f}s") from exc
    stdout = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        output = stdout + done.stderr.decode(errors="replace")
        raise StandinError(
            f"{what}: `{' '.join(args)}` exited with {done.returncode}:\n{tail(output)}"
        )
    return stdout


def succeeds(args: Sequence[str], *, timeout: float = 30) -> bool:
    """Whether `args` exits 0 (for probes such as `docker info`, where failing is an answer)."""
    return output_of(args, timeout=timeout) is not None


def output_of(args: Sequence[str], *, timeout: float = 30) -> str | None:
    """The stdout of `args`, or None when it fails (a probe: "no such image" is an answer)."""
    try:
        done = subprocess.run(
            list(args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode(errors="replace") if done.returncode == 0 else None
