"""The worker hardens itself at start: non-dumpable, so a process of its own uid cannot read its
environment (the vault key, provider keys) or memory through /proc (issue 16).

A real `python -m services.worker` is started with PostgreSQL out of reach, so it stays alive in
its start-up for a while. Root (as these machines test) could read any process, so when the
test runs as root both the worker and the reader run as root without capabilities (`setpriv
--bounding-set=-all`): then, as for any two processes of one ordinary user, only the worker's
own non-dumpable flag stands between them.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from tests.stack import ROOT

WITHOUT_CAPABILITIES = ["setpriv", "--bounding-set=-all"] if os.geteuid() == 0 else []


def _peek(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WITHOUT_CAPABILITIES, "cat", path], capture_output=True, text=True, timeout=10
    )


def test_a_same_uid_process_cannot_read_the_worker_s_environment(redis_url: str) -> None:
    canary = "sk-canary-" + secrets.token_hex(16)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REDIS_URL": redis_url,
        # Refused at once, retried for the pool's 30 s: the worker waits in its start-up.
        "DATABASE_URL": "postgresql://aion@127.0.0.1:1/aion",
        "AION_WORKER_METRICS_PORT": "0",
        "OPENAI_API_KEY": canary,
    }
    # The same kind of process, not hardened: its environment is readable (the check works).
    plain = subprocess.Popen([*WITHOUT_CAPABILITIES, "sleep", "30"], env=env)
    worker = subprocess.Popen(
        [*WITHOUT_CAPABILITIES, sys.executable, "-m", "services.worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while b"sleep" not in Path(f"/proc/{plain.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert canary in _peek(f"/proc/{plain.pid}/environ").stdout
        environ = f"/proc/{worker.pid}/environ"
        while True:  # readable until its prctl, after the imports
            assert worker.poll() is None, worker.communicate()[0].decode(errors="replace")
            assert time.monotonic() < deadline, "the worker never became non-dumpable"
            if b"services.worker" in Path(f"/proc/{worker.pid}/cmdline").read_bytes():
                peek = _peek(environ)
                if peek.returncode != 0:
                    break
            time.sleep(0.05)
        assert "Permission denied" in peek.stderr and canary not in peek.stdout
        assert _peek(f"/proc/{worker.pid}/mem").returncode != 0
    finally:
        for process in (worker, plain):
            process.kill()
            process.wait(10)
