"""First-run secrets: generated once, kept in files, each service shown only what it needs.

A fresh install needs an owner token, a vault key, passwords for PostgreSQL and Redis, the telegram
service's own credentials and the workers' credential for the sandbox; nobody should have to make
them by hand. `provision` keeps every generated value once in a store folder that only it reads
(compose: the `secrets` volume, never PostgreSQL, so the vault key does not live beside what it
encrypts), and writes each service a folder of its own holding just the files that service needs,
named after its settings fields: pydantic-settings reads them as a secrets directory
(AION_SECRETS_DIR, shared/service_settings.py), and a variable set in the environment still wins
over its file.

Layout under ROOT: `store/<value>` (the generated values) and `<service>/<setting file>`. Compose
mounts `store` in the one-shot `secrets` service only, and each service's folder (a volume of
its own) in that service only, read-only. `make dev` uses the same layout under data/secrets.

    python -m shared.secret_files provision [--root DIR] [--legacy-pgdata DIR] [--profile dev]
    python -m shared.secret_files rotate aion_api_token [--root DIR]

ROOT defaults to AION_SECRETS_ROOT (compose's `secrets` service sets it, so rotating is
`docker compose run --rm secrets rotate aion_api_token`).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.sandbox import token_digest

STORE = "store"
APP_UID = 10001  # the `aion` user of every AION image (Dockerfile)
SANDBOX_UID = 10002  # the sandbox image's own user (Dockerfile)
APP_DB_ROLE = "aion_app"
OWNER_DB_ROLE = "aion"
DB_NAME = "aion"
# The password the bundled PostgreSQL had before secrets were generated (compose's old default):
# a cluster initialised with it keeps it, or its services could no longer log in.
LEGACY_POSTGRES_PASSWORD = "aion-internal"  # noqa: S105 - a published default, not a secret


def _token() -> str:
    return secrets.token_urlsafe(32)


def _password() -> str:
    return secrets.token_hex(24)  # URL-safe: these go into connection URIs


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@dataclass(frozen=True, slots=True)
class Value:
    """One generated value in the store."""

    name: str
    make: Callable[[], str]
    rotatable: bool = False


VALUES: dict[str, Value] = {
    value.name: value
    for value in (
        Value("aion_api_token", _token, rotatable=True),
        Value("aion_secret_key", _fernet_key),
        Value("aion_telegram_service_token", _token, rotatable=True),
        Value("aion_telegram_handover_key", _fernet_key, rotatable=True),
        Value("aion_tts_token", _token, rotatable=True),
        Value("aion_sandbox_token", _token, rotatable=True),
        Value("postgres_password", _password),
        Value("aion_app_db_password", _password),
        Value("redis_password", _password),
    )
}
# What the `secrets` service takes from the environment (docker-compose.yml passes these).
ENV_NAMES = tuple(name.upper() for name in VALUES)

Render = Callable[[Mapping[str, str]], str]


def _plain(name: str) -> Render:
    return lambda values: values[name]


def _app_database_url(values: Mapping[str, str]) -> str:
    return f"postgresql://{APP_DB_ROLE}:{values['aion_app_db_password']}@postgres:5432/{DB_NAME}"


def _owner_database_url(values: Mapping[str, str]) -> str:
    return f"postgresql://{OWNER_DB_ROLE}:{values['postgres_password']}@postgres:5432/{DB_NAME}"


def _redis_url(values: Mapping[str, str]) -> str:
    return f"redis://:{values['redis_password']}@redis:6379/0"


def _sandbox_token_digest(values: Mapping[str, str]) -> str:
    return token_digest(values["aion_sandbox_token"])


def _redis_conf(values: Mapping[str, str]) -> str:
    return f"requirepass {values['redis_password']}\n"


@dataclass(frozen=True, slots=True)
class Audience:
    """A service's folder: which files, rendered from which values, owned by whom."""

    files: dict[str, Render]
    uid: int = APP_UID
    mode: int = 0o400
    profiles: frozenset[str] = frozenset({"compose"})


# Who sees what. File names are settings fields (shared/service_settings.py and the services'
# settings).
AUDIENCES: dict[str, Audience] = {
    "api": Audience(
        {
            "aion_api_token": _plain("aion_api_token"),
            "aion_secret_key": _plain("aion_secret_key"),
            "aion_telegram_service_token": _plain("aion_telegram_service_token"),
            "aion_telegram_handover_key": _plain("aion_telegram_handover_key"),
            "database_url": _app_database_url,
            "redis_url": _redis_url,
        },
        profiles=frozenset({"compose", "dev"}),
    ),
    "worker": Audience(
        {
            "aion_secret_key": _plain("aion_secret_key"),
            "aion_tts_token": _plain("aion_tts_token"),
            "aion_sandbox_token": _plain("aion_sandbox_token"),
            "database_url": _app_database_url,
            "redis_url": _redis_url,
        },
        profiles=frozenset({"compose", "dev"}),
    ),
    # Runs untrusted commands as its own uid, which can read this folder: it holds only the
    # SHA-256 of the workers' credential, which opens nothing (shared/sandbox.py).
    "sandbox": Audience({"aion_sandbox_token_sha256": _sandbox_token_digest}, uid=SANDBOX_UID),
    "tts": Audience(
        {"aion_tts_token": _plain("aion_tts_token"), "database_url": _app_database_url},
        profiles=frozenset({"compose", "dev"}),
    ),
    "telegram": Audience(
        {
            "aion_telegram_service_token": _plain("aion_telegram_service_token"),
            "aion_telegram_handover_key": _plain("aion_telegram_handover_key"),
            "redis_url": _redis_url,
        },
        profiles=frozenset({"compose", "dev"}),
    ),
    "migrate": Audience(
        {
            "database_url": _owner_database_url,
            "aion_app_db_password": _plain("aion_app_db_password"),
        }
    ),
    # The official postgres image reads POSTGRES_PASSWORD_FILE as root before it drops to the
    # postgres user; redis-server reads its config as the redis user, whose uid is the image's.
    "postgres": Audience({"postgres_password": _plain("postgres_password")}, uid=0),
    "redis": Audience(
        {"redis_password": _plain("redis_password"), "redis.conf": _redis_conf},
        uid=0,
        mode=0o444,
        profiles=frozenset({"compose", "dev"}),  # make dev runs its own Redis with it too
    ),
}

# Outside compose (make dev) the stores are the developer's own: no database or Redis files; and
# no sandbox service (commands run under bubblewrap), so no credential for it.
_DEV_SKIPPED = frozenset({"database_url", "redis_url", "aion_sandbox_token"})


@dataclass(frozen=True, slots=True)
class Layout:
    root: Path
    profile: str = "compose"

    @property
    def store(self) -> Path:
        return self.root / STORE

    def service_dir(self, service: str) -> Path:
        return self.root / service

    def audiences(self) -> dict[str, Audience]:
        return {n: a for n, a in AUDIENCES.items() if self.profile in a.profiles}


def _write(path: Path, text: str, *, mode: int, uid: int | None) -> None:
    """Replace a file atomically, so a service never reads half a secret."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, mode)  # before the chown: after it, the file is no longer ours to chmod
    if uid is not None:
        os.chown(tmp, uid, uid)
    os.replace(tmp, path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def load_or_generate(
    layout: Layout, env: Mapping[str, str], legacy_pgdata: Path | None = None
) -> dict[str, str]:
    """The store's values, generating (once) whichever are missing."""
    layout.store.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.store, 0o700)
    values: dict[str, str] = {}
    for value in VALUES.values():
        path = layout.store / value.name
        # Given in the environment: it wins, and what is derived from it (URLs) follows.
        current = env.get(value.name.upper()) or _read(path)
        if current is None and value.name == "postgres_password":
            current = _legacy_postgres_password(legacy_pgdata)
        if current is None:
            current = value.make()
        if current != _read(path):
            _write(path, current + "\n", mode=0o600, uid=None)
        values[value.name] = current
    return values


def _legacy_postgres_password(legacy_pgdata: Path | None) -> str | None:
    """A cluster made before the password was generated keeps compose's old default."""
    if legacy_pgdata is not None and (legacy_pgdata / "PG_VERSION").exists():
        return LEGACY_POSTGRES_PASSWORD
    return None


def distribute(layout: Layout, values: Mapping[str, str], *, own: bool) -> list[Path]:
    """Write every service's folder from the store's values; return the files written.

    `own`: hand each file to its service's uid (compose, as root); otherwise keep the caller's.
    """
    written = []
    for service, audience in layout.audiences().items():
        folder = layout.service_dir(service)
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755 if own else 0o700)
        for file_name, render in audience.files.items():
            if layout.profile != "compose" and file_name in _DEV_SKIPPED:
                continue
            path = folder / file_name
            mode, uid = (audience.mode, audience.uid) if own else (0o600, None)
            _write(path, render(values), mode=mode, uid=uid)
            written.append(path)
    return written


def provision(
    layout: Layout, env: Mapping[str, str], legacy_pgdata: Path | None = None, *, own: bool
) -> list[Path]:
    return distribute(layout, load_or_generate(layout, env, legacy_pgdata), own=own)


def rotate(layout: Layout, name: str, *, own: bool) -> None:
    """A new value for `name` in the store and in every folder that holds it."""
    value = VALUES.get(name)
    if value is None or not value.rotatable:
        choices = ", ".join(sorted(v.name for v in VALUES.values() if v.rotatable))
        raise SystemExit(f"cannot rotate {name!r}; rotatable values: {choices}")
    layout.store.mkdir(parents=True, exist_ok=True)
    _write(layout.store / name, value.make() + "\n", mode=0o600, uid=None)
    provision(layout, os.environ, own=own)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.secret_files", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("provision", "rotate"):
        command = sub.add_parser(name)
        root = os.environ.get("AION_SECRETS_ROOT")
        command.add_argument("--root", type=Path, default=root, required=root is None)
        command.add_argument("--profile", choices=("compose", "dev"), default="compose")
        if name == "provision":
            command.add_argument("--legacy-pgdata", type=Path)
        else:
            command.add_argument("name")
    args = parser.parse_args(argv)
    layout = Layout(args.root, args.profile)
    own = os.geteuid() == 0 and args.profile == "compose"
    if args.command == "provision":
        written = provision(layout, os.environ, args.legacy_pgdata, own=own)
        print(f"secrets ready: {len(written)} files in {len(layout.audiences())} service folders")
    else:
        rotate(layout, args.name, own=own)
        print(f"rotated {args.name}; restart the services that use it to apply it")


if __name__ == "__main__":
    main(sys.argv[1:])
