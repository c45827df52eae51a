"""A Docker engine that answers, on a machine where nobody started one.

CI runs as root on a fresh Debian machine: no engine is running and docker.io may not even be
installed. The tests need one, so we install what is missing and start `dockerd` ourselves.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from tests.compose.proc import StandinError, run, succeeds, tail

log = logging.getLogger(__name__)

DOCKERD_LOG = Path("/var/log/aion-dockerd.log")
DOCKERD_PIDFILE = Path("/var/run/docker.pid")
# A cold dockerd (first start: creates /var/lib/docker, the bridge, iptables rules) takes a few
# seconds here; the deadline only bounds a daemon that never comes up.
ENGINE_DEADLINE_SECONDS = 120.0
POLL_SECONDS = 0.25

# The command each step needs, and the Debian package that brings it.
PACKAGE_OF = {"dockerd": "docker.io", "docker": "docker.io", "debootstrap": "debootstrap"}


def ensure_commands(commands: Iterable[str]) -> None:
    """Install (apt) the Debian packages bringing `commands` that are not on PATH."""
    packages = sorted({PACKAGE_OF[c] for c in commands if shutil.which(c) is None})
    if not packages:
        return
    if os.geteuid() != 0:
        raise StandinError(f"installing {', '.join(packages)} needs root (apt-get install)")
    log.info("installing %s with apt-get", " ".join(packages))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update"], "apt-get update (before installing docker/debootstrap)", env=env)
    run(
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
        f"installing {' '.join(packages)}",
        env=env,
        timeout=900,
    )


def engine_answers() -> bool:
    """Whether a Docker daemon answers the `docker` CLI right now."""
    return succeeds(["docker", "version", "--format", "{{.Server.Version}}"], timeout=20)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (an exited dockerd nobody reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself hold spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"


def _running_dockerd() -> int | None:
    """The pid of a dockerd that is already running (started by someone else), if any."""
    try:
        pid = int(DOCKERD_PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return pid if comm == "dockerd" and _alive(pid) else None


def _start_dockerd() -> int:
    """Start dockerd in its own session, detached from us, logging to DOCKERD_LOG; its pid.

    The daemon must outlive this process (the CLI, a pytest run), so the shell that starts it
    exits at once and the daemon is nobody's child here.
    """
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    out = run(
        ["sh", "-c", 'setsid dockerd >>"$1" 2>&1 </dev/null & echo $!', "sh", str(DOCKERD_LOG)],
        "starting dockerd",
    )
    return int(out.strip())


def _wait_for_engine(pid: int | None, deadline_seconds: float) -> None:
    """Poll until the engine answers; fail early if the daemon we watch has exited."""
    deadline = time.monotonic() + deadline_seconds
    while not engine_answers():
        if pid is not None and not _alive(pid):
            raise StandinError(
                f"dockerd (pid {pid}) exited before answering; end of {DOCKERD_LOG}:\n"
                + _log_tail()
            )
        if time.monotonic() > deadline:
            raise StandinError(
                f"the Docker engine did not answer within {deadline_seconds:.0f}s; "
                f"end of {DOCKERD_LOG}:\n" + _log_tail()
            )
        time.sleep(POLL_SECONDS)


def _log_tail() -> str:
    try:
        return tail(DOCKERD_LOG.read_text(errors="replace"))
    except OSError as exc:
        return f"(cannot read it: {exc})"


def ensure_engine(deadline_seconds: float = ENGINE_DEADLINE_SECONDS) -> None:
    """Make `docker` reach a daemon: install docker.io if missing, start dockerd if needed."""
    ensure_commands(["docker", "dockerd"])
    if engine_answers():
        return
    pid = _running_dockerd()
    if pid is None:
        pid = _start_dockerd()
        log.info("started dockerd (pid %d), logging to %s", pid, DOCKERD_LOG)
    else:
        log.info("dockerd (pid %d) is running but not answering yet; waiting for it", pid)
    started = time.monotonic()
    _wait_for_engine(pid, deadline_seconds)
    log.info("Docker engine answers after %.1fs", time.monotonic() - started)


def docker_env(*, buildkit: bool) -> dict[str, str]:
    """Our environment with DOCKER_BUILDKIT set: the classic builder needs no registry at all."""
    return {**os.environ, "DOCKER_BUILDKIT": "1" if buildkit else "0"}
