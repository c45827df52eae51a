"""Paths inside the workspace folder, and nowhere else.

A path from the model is relative to the workspace; it may not be absolute, contain `..` or
NUL, and once every symlink in it is resolved it must still lie inside the workspace. The
workspace is shared with the sandbox, whose commands may swap a folder for a link between that
check and the use: so the folder is then opened and where it really is is checked again on the
open descriptor, everything else happens relative to that descriptor, and files are opened
without following a link in the last component.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def folder_inside(root: Path, folder: Path) -> Iterator[int]:
    """A descriptor of `folder`, refused unless the folder it opened lies inside `root`."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        opened = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if opened != root and root not in opened.parents:
            raise OutsideWorkspace(f"{shown_name(folder)!r} was swapped for a link out")
        yield fd
    finally:
        os.close(fd)


def shown_name(path: Path) -> str:
    return path.name or "."


def shown(root: Path, path: Path) -> str:
    """How a path is shown to the model: relative to the workspace."""
    return str(path.relative_to(root)) if path != root else "."


def read_text(root: Path, path: Path, limit: int) -> str:
    """A text file's content (UTF-8, invalid bytes replaced), at most `limit` bytes big."""
    with folder_inside(root, path.parent) as folder:
        fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise ToolError(f"the file has {size} bytes; files_read reads files up to {limit}")
        data = handle.read(limit + 1)
    if b"\x00" in data:
        raise ToolError("the file is binary, not text")
    return data.decode("utf-8", errors="replace")


def write_text(root: Path, path: Path, content: str, *, append: bool) -> int:
    """Write (atomically, unless appending); returns the file's new size in bytes."""
    data = content.encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
    with folder_inside(root, path.parent) as folder:
        if append:
            fd = os.open(path.name, flags | os.O_APPEND, 0o664, dir_fd=folder)
            with os.fdopen(fd, "ab") as handle:
                handle.write(data)
                handle.flush()
                return os.fstat(handle.fileno()).st_size
        temporary = f".{path.name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(temporary, flags | os.O_EXCL, 0o664, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            # Replaces a symlink itself, never what it points to.
            os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
            raise
    return len(data)
