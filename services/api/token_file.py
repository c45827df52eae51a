"""Where a token the api generates for itself goes: a file only its owner can read, never a log.

Only a bare `python -m services.api` without AION_API_TOKEN generates one (compose and `make dev`
generate the token into their secrets folders first: shared/secret_files.py). The file is
written before the token's hash is stored, so a folder that cannot be written stops the start
instead of leaving a token nobody can read; it is moved into place only by the replica whose
token won, so a losing replica never overwrites the token in use.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class TokenFileError(RuntimeError):
    """The generated token cannot be written where AION_API_TOKEN_FILE says."""


class PendingTokenFile:
    """The token written next to its final path (mode 0600), until `commit` or `discard`."""

    def __init__(self, path: Path, token: str) -> None:
        self.path = path
        self._tmp = path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(token + "\n")
        except OSError as exc:
            raise TokenFileError(
                f"Cannot write the generated API token to {self.path} ({exc.strerror}). Set "
                "AION_API_TOKEN (at least 32 characters), or AION_API_TOKEN_FILE to a path "
                "this user may write."
            ) from exc

    def commit(self) -> None:
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        self._tmp.unlink(missing_ok=True)
