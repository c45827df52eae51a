"""`make dev`: every AION service as a local process (no Docker), in the foreground.

Applies the migrations, then runs api, worker, tts and telegram side by side with each output
line prefixed by its service. Ctrl-C or SIGTERM, or any service exiting on its own, stops them all.
When DATABASE_URL is unset a local PostgreSQL with pgvector is started (scripts/localpg.py);
when REDIS_URL is unset, a local Redis on loopback with the generated password
(scripts/localredis.py, port AION_DEV_REDIS_PORT, 6380). Other variables pass through, each AION
setting only to the services that read it (the worker never sees AION_API_TOKEN or
TELEGRAM_BOT_TOKEN). Shell commands run under bubblewrap (services/worker/sandbox/), when it is
installed. The owner's token, the vault key, the services' credentials and the Redis password
are generated once into data/secrets (shared/secret_files.py, as compose does); a variable set in
the shell wins.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("api", "worker", "tts", "telegram")
GRACE_SECONDS = 10.0
COLORS = ("36", "35", "33", "32", "34", "31")  # ANSI: one per name, only on a terminal

_print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    """Print one line under a service's prefix; a lock keeps lines from interleaving."""
    prefix = f"{name:<9}|"
    if sys.stdout.isatty():
        color = COLORS[(["dev", "migrate", *SERVICES].index(name)) % len(COLORS)]
        prefix = f"\033[{color}m{prefix}\033[0m"
    with _print_lock:
        print(f"{prefix} {line}", flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    say("dev", message)
    sys.exit(code)


def build_env(secrets: Secrets) -> dict[str, str]:
    """The services' environment: the caller's, plus the local stores when none are given."""
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        say("dev", "DATABASE_URL is unset: using the local PostgreSQL (scripts/localpg.py)")
        try:
            from scripts import localpg  # lazy: only needed without DATABASE_URL

            env["DATABASE_URL"] = localpg.ensure_database(localpg.ensure_server(), "aion")
        except Exception as exc:
            fail(f"could not start the local PostgreSQL ({exc}); set DATABASE_URL instead")
    if not env.get("REDIS_URL"):
        port = int(env.get("AION_DEV_REDIS_PORT") or 6380)
        say("dev", f"REDIS_URL is unset: using a local Redis with a password on 127.0.0.1:{port}")
        from scripts import localredis  # lazy, like localpg

        try:
            env["REDIS_URL"] = localredis.ensure_server(
                secrets.dirs["redis"] / "redis.conf",
                secrets.values["redis_password"],
                REPO / "data" / "redis",
                port,
            )
        except (localredis.LocalRedisError, OSError, subprocess.CalledProcessError) as exc:
            fail(f"could not start the local Redis ({exc})")
    # Same wiring compose does with service names, pointed at loopback.
    env.setdefault("AION_API_URL", f"http://127.0.0.1:{env.get('AION_PORT') or 7000}")
    env.setdefault("AION_TTS_URL", f"http://127.0.0.1:{env.get('AION_TTS_PORT') or 7100}")
    # /data is the containers' folder; locally the audio store lives in the checkout (git-ignored).
    env.setdefault("AION_AUDIO_DIR", str(REPO / "data" / "audio"))
    env.setdefault("AION_LOG_JSON", "false")  # a person reads this log, not a collector
    env["PYTHONUNBUFFERED"] = "1"  # lines through the pipe as they happen
    return env


def service_env(name: str, env: Mapping[str, str]) -> dict[str, str]:
    """What one service is given: the environment without the settings only other services
    read (as compose does), so the worker never holds the owner's token or the bot token."""
    from scripts.compose_env import SERVICE_SETTINGS, variable_names

    own = set(variable_names(SERVICE_SETTINGS[name]))
    others = {n for cls in SERVICE_SETTINGS.values() for n in variable_names(cls)} - own
    return {key: value for key, value in env.items() if key.upper() not in others}


@dataclass(frozen=True)
class Secrets:
    values: dict[str, str]  # the generated (or given) values, by name
    dirs: dict[str, Path]  # each service's folder: what it reads as AION_SECRETS_DIR


def provision_secrets() -> Secrets:
    """Each service's secrets folder (made on first use), and the values in them."""
    from shared.secret_files import Layout, distribute, load_or_generate

    layout = Layout(REPO / "data" / "secrets", profile="dev")
    values = load_or_generate(layout, os.environ, None)
    distribute(layout, values, own=False)
    say("dev", f"owner token: {layout.service_dir('api') / 'aion_api_token'} (or AION_API_TOKEN)")
    return Secrets(dict(values), {name: layout.service_dir(name) for name in layout.audiences()})


def pump(name: str, stream: Iterable[str]) -> None:
    for line in stream:
        say(name, line.rstrip("\n"))


def spawn(
    name: str, args: list[str], env: dict[str, str], *, own_group: bool
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        # Its own group: Ctrl-C reaches only us, and we stop each service with its children.
        process_group=0 if own_group else None,
    )


def migrate(env: dict[str, str]) -> None:
    """`alembic upgrade head` before anything starts; a failure stops `make dev` right here."""
    say("dev", "applying migrations (alembic upgrade head)")
    proc = spawn("migrate", ["-m", "alembic", "upgrade", "head"], env, own_group=False)
    assert proc.stdout is not None
    pump("migrate", proc.stdout)
    if proc.wait() != 0:
        fail(f"migrations failed (exit code {proc.returncode}); is DATABASE_URL reachable?")


class Supervisor:
    """Runs the services; stops all of them on a signal or when one of them exits."""

    def __init__(self, env: dict[str, str], secrets: dict[str, Path]) -> None:
        self.env = env
        self.secrets = secrets
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.readers: list[threading.Thread] = []
        self.stop_requested = threading.Event()
        self.kill_now = threading.Event()

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # A second Ctrl-C while stopping skips the grace period.
        (self.kill_now if self.stop_requested.is_set() else self.stop_requested).set()

    def start(self, name: str) -> None:
        env = service_env(name, self.env)
        if name in self.secrets:
            env["AION_SECRETS_DIR"] = str(self.secrets[name])
        proc = spawn(name, ["-m", f"services.{name}"], env, own_group=True)
        self.procs[name] = proc
        reader = threading.Thread(target=pump, args=(name, proc.stdout), daemon=True)
        reader.start()
        self.readers.append(reader)
        say("dev", f"started {name} (pid {proc.pid})")

    def wait(self) -> int:
        """Block until a stop is asked for (→ 0) or a service exits (→ its code, at least 1)."""
        while not self.stop_requested.wait(0.2):
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    say("dev", f"{name} exited with code {proc.returncode}; stopping the others")
                    return proc.returncode or 1
        say("dev", "stopping (press Ctrl-C again to kill at once)")
        return 0

    def stop(self) -> None:
        """SIGTERM every service's group, then SIGKILL whatever outlives the grace period."""
        self.stop_requested.set()
        running = {n: p for n, p in self.procs.items() if p.poll() is None}
        for proc in running.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and not self.kill_now.is_set():
            if all(p.poll() is not None for p in running.values()):
                break
            time.sleep(0.1)
        for name, proc in running.items():
            if proc.poll() is None:
                say("dev", f"{name} did not stop in time: killing it")
                _signal_group(proc, signal.SIGKILL)
            proc.wait()
        for reader in self.readers:
            reader.join(timeout=2)


def _signal_group(proc: subprocess.Popen[str], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is already gone
        os.killpg(proc.pid, signum)


def main() -> None:
    secrets = provision_secrets()
    env = build_env(secrets)
    migrate(env)
    supervisor = Supervisor(env, secrets.dirs)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.on_signal)
    try:
        for name in SERVICES:
            supervisor.start(name)
        code = supervisor.wait()
    finally:
        supervisor.stop()
    say("dev", "all services stopped")
    sys.exit(code)


if __name__ == "__main__":
    main()
