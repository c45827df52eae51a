"""Paths inside the workspace folder, and nowhere else.

A path from the model is relative to the workspace; it may not be absolute, contain `..` or
NUL, and once every symlink in it is resolved it must still lie inside the workspace. Files
are then opened without following a symlink in the last component, so a link swapped in
after the check is not followed either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path, PurePosixPath

from services.worker.tools.registry import ToolError


class OutsideWorkspace(ToolError):
    """The path would leave the workspace."""


def workspace_root(configured: Path) -> Path:
    """The workspace folder (made on first use), with symlinks resolved."""
    configured.mkdir(parents=True, exist_ok=True)
    return configured.resolve(strict=True)


def resolve_inside(root: Path, relative: str) -> Path:
    """`relative` as a resolved path under `root` (itself resolved), or OutsideWorkspace."""
    if "\x00" in relative:
        raise OutsideWorkspace("a path cannot contain NUL characters")
    text = relative.strip() or "."
    pure = PurePosixPath(text)
    if pure.is_absolute() or text.startswith("~") or Path(text).is_absolute():
        raise OutsideWorkspace(f"{relative!r}: use a path relative to the workspace")
    if ".." in pure.parts:
        raise OutsideWorkspace(f"{relative!r}: '..' is not allowed in workspace paths")
    resolved = (root / pure).resolve(strict=False)
    if resolved != root and root not in resolved.parents:
        raise OutsideWorkspace(f"{relative!r} leads outside the workspace (through a symlink)")
    return resolved


def shown(root: Path, path: Path) -> str:
    """How a path is shown to the model: relative to the workspace."""
    return str(path.relative_to(root)) if path != root else "."


def read_text(path: Path, limit: int) -> str:
    """A text file's content (UTF-8, invalid bytes replaced), at most `limit` bytes big."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise ToolError(f"the file has {size} bytes; files_read reads files up to {limit}")
        data = handle.read(limit + 1)
    if b"\x00" in data:
        raise ToolError("the file is binary, not text")
    return data.decode("utf-8", errors="replace")


def write_text(path: Path, content: str, *, append: bool) -> int:
    """Write (atomically, unless appending); returns the file's new size in bytes."""
    data = content.encode()
    if append:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o664)
        with os.fdopen(fd, "ab") as handle:
            handle.write(data)
            handle.flush()
            return os.fstat(handle.fileno()).st_size
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o664)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)  # replaces a symlink itself, never what it points to
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(data)
