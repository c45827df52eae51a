"""Secrets at rest: Fernet under AION_SECRET_KEY (from the environment, never from the database).

Names and masking rules are API.md's. Values never reach a log: nothing here logs, and callers
only ever pass `mask(value)` on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from cryptography.fernet import InvalidToken, MultiFernet

from shared.db import Conn
from shared.db import secrets as repo
from shared.sealing import Sealer, SealError, parse_key

__all__ = ["MAX_VALUE_CHARS", "Vault", "VaultUnavailable", "check_name", "mask", "parse_key"]

log = logging.getLogger("aion.vault")

NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")
SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_ID")
# AION's own credentials are configuration of the deployment, not secrets the owner manages here.
_RESERVED_PREFIXES = ("AION_",)
_RESERVED = frozenset({"PATH", "HOME", "PYTHONPATH", "LD_PRELOAD", "DATABASE_URL", "REDIS_URL"})
MAX_VALUE_CHARS = 16_384


class SecretNameError(ValueError):
    pass


class VaultUnavailable(SealError):
    """No AION_SECRET_KEY: stored secrets can be neither written nor read."""


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise SecretNameError(
            f"'{name[:80]}' is not a key name: 3-64 characters, A-Z, 0-9 and '_', "
            "starting with a letter"
        )
    if name in _RESERVED or name.startswith(_RESERVED_PREFIXES):
        raise SecretNameError(f"'{name}' is configuration of the server, not a secret kept here")
    if not name.endswith(SUFFIXES):
        raise SecretNameError(
            f"'{name}' must end with {', '.join(SUFFIXES)} (base URLs are settings, not secrets)"
        )
    return name


def mask(value: str) -> str:
    """First 4 + … + last 4 for long values; only dots for short ones (their length hidden)."""
    return f"{value[:4]}…{value[-4:]}" if len(value) >= 16 else "•" * 8


class Vault(Sealer):
    """Encrypts and decrypts rows of the `secrets` table; `fernet` None means no key set."""

    error = VaultUnavailable

    def __init__(self, fernet: MultiFernet | None) -> None:
        super().__init__(
            fernet,
            "AION_SECRET_KEY is not set: keys cannot be stored. Set it in the environment of "
            "the api and the workers (see .env.example); keys given as environment "
            "variables work without it.",
        )

    async def store(self, conn: Conn, values: Mapping[str, str]) -> None:
        fernet = self.require()
        async with conn.transaction():
            for name, value in values.items():
                await repo.store(conn, name, fernet.encrypt(value.encode()))

    async def load(self, conn: Conn) -> dict[str, str]:
        """Every stored secret in clear; empty without a key (nothing can be read then)."""
        if self._fernet is None:
            return {}
        values = {}
        for name, blob in (await repo.load_all(conn)).items():
            try:
                values[name] = self._fernet.decrypt(blob).decode()
            except InvalidToken:
                # Written under another key: unusable, but it must not stop every other secret.
                log.warning("stored secret %s does not decrypt under AION_SECRET_KEY", name)
        return values

    async def names(self, conn: Conn) -> list[str]:
        return sorted(await repo.load_all(conn))

    async def delete(self, conn: Conn, name: str) -> bool:
        return await repo.delete(conn, name)
