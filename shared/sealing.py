"""Sealing: a value encrypted for another process that holds the same key.

Pure cryptography, no storage: the vault (shared/vault.py) seals rows of the `secrets` table
under AION_SECRET_KEY, and the api hands the telegram service its bot token sealed under
AION_TELEGRAM_HANDOVER_KEY, a key of that handover alone, so the process that parses untrusted
Telegram updates never holds the key to every stored secret.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_HINT = (
    "a Fernet key (32 url-safe base64-encoded bytes), e.g. from: python3 -c "
    '"import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)


class SealError(Exception):
    """No key, or a sealed value that does not open under it."""


def parse_key(raw: str, name: str = "AION_SECRET_KEY") -> MultiFernet:
    """One Fernet key, or several comma-separated (the first encrypts, all decrypt), so a key can
    be rotated without losing what was sealed under the old one."""
    try:
        return MultiFernet([Fernet(part.strip().encode()) for part in raw.split(",") if part])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be {KEY_HINT}") from exc


class Sealer:
    """Seals and opens values under one key (None: no key configured, `missing` says which)."""

    error: type[SealError] = SealError  # what a missing key raises (the vault's is its own)

    def __init__(self, fernet: MultiFernet | None, missing: str) -> None:
        self._fernet = fernet
        self._missing = missing

    @property
    def available(self) -> bool:
        return self._fernet is not None

    def require(self) -> MultiFernet:
        if self._fernet is None:
            raise self.error(self._missing)
        return self._fernet

    def seal(self, value: str) -> str:
        return self.require().encrypt(value.encode()).decode()

    def unseal(self, sealed: str) -> str:
        try:
            return self.require().decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SealError("the sealed value does not open under this process's key") from exc
