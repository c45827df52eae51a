"""Files tools: list, read, write and delete inside the workspace folder (AION_WORKSPACE_DIR)
only. Reading is safe; writing and deleting need the owner's approval by default."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.worker.plugins.files.workspace import (
    folder_inside,
    read_text,
    resolve_inside,
    shown,
    workspace_root,
    write_text,
)
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry

MAX_READ_FILE_BYTES = 4_000_000  # files_read refuses bigger files
MAX_FILE_BYTES = 10_000_000  # no write makes a file bigger than this
MAX_CHUNK_CHARS = 12_000  # of a file's text per files_read call
MAX_LIST_ENTRIES = 500

PathField = Field(max_length=1000, description="a path relative to the workspace folder")


class ListArguments(BaseModel):
    path: str = Field(default=".", max_length=1000, description="a folder in the workspace")


class ReadArguments(BaseModel):
    path: str = PathField
    offset: int = Field(default=0, ge=0, description="first character to return")
    max_chars: int = Field(default=MAX_CHUNK_CHARS, ge=1, le=MAX_CHUNK_CHARS)


class WriteArguments(BaseModel):
    path: str = PathField
    content: str = Field(max_length=1_000_000)
    mode: Literal["overwrite", "append"] = "overwrite"


class DeleteArguments(BaseModel):
    path: str = PathField


def _root(ctx: ToolContext) -> Path:
    return workspace_root(ctx.app.settings.aion_workspace_dir)


async def files_list(ctx: ToolContext, args: ListArguments) -> dict[str, Any]:
    return await asyncio.to_thread(_list, _root(ctx), args.path)


def _list(root: Path, relative: str) -> dict[str, Any]:
    folder = resolve_inside(root, relative)
    if not folder.is_dir():
        raise ToolError(f"{relative!r} is not a folder in the workspace")
    entries: list[dict[str, Any]] = []
    with folder_inside(root, folder) as fd, os.scandir(fd) as found:
        for entry in sorted(found, key=lambda e: e.name):
            if len(entries) >= MAX_LIST_ENTRIES:
                break
            info = entry.stat(follow_symlinks=False)
            kind = (
                "link"
                if stat.S_ISLNK(info.st_mode)
                else "folder"
                if stat.S_ISDIR(info.st_mode)
                else "file"
                if stat.S_ISREG(info.st_mode)
                else "other"
            )
            item: dict[str, Any] = {"name": entry.name, "type": kind}
            if kind == "file":
                item["bytes"] = info.st_size
            entries.append(item)
    return {
        "path": shown(root, folder),
        "entries": entries,
        "truncated": len(entries) >= MAX_LIST_ENTRIES,
    }


async def files_read(ctx: ToolContext, args: ReadArguments) -> dict[str, Any]:
    return await asyncio.to_thread(_read, _root(ctx), args)


def _read(root: Path, args: ReadArguments) -> dict[str, Any]:
    path = resolve_inside(root, args.path)
    if not path.is_file():
        raise ToolError(f"{args.path!r} is not a file in the workspace")
    text = read_text(root, path, MAX_READ_FILE_BYTES)
    chunk = text[args.offset : args.offset + args.max_chars]
    end = args.offset + len(chunk)
    return {
        "path": shown(root, path),
        "content": chunk,
        "total_chars": len(text),
        "next_offset": end if end < len(text) else None,
    }


async def files_write(ctx: ToolContext, args: WriteArguments) -> dict[str, Any]:
    return await asyncio.to_thread(_write, _root(ctx), args)


def _write(root: Path, args: WriteArguments) -> dict[str, Any]:
    path = resolve_inside(root, args.path)
    if path == root or path.is_dir():
        raise ToolError(f"{args.path!r} is a folder")
    existing = path.stat().st_size if args.mode == "append" and path.exists() else 0
    if existing + len(args.content.encode()) > MAX_FILE_BYTES:
        raise ToolError(f"the file would exceed {MAX_FILE_BYTES} bytes")
    path.parent.mkdir(parents=True, exist_ok=True)
    size = write_text(root, path, args.content, append=args.mode == "append")
    return {"path": shown(root, path), "bytes": size, "mode": args.mode}


async def files_delete(ctx: ToolContext, args: DeleteArguments) -> dict[str, Any]:
    return await asyncio.to_thread(_delete, _root(ctx), args.path)


def _delete(root: Path, relative: str) -> dict[str, Any]:
    path = resolve_inside(root, relative)
    if path == root:
        raise ToolError("the workspace folder itself cannot be deleted")
    with folder_inside(root, path.parent) as folder:
        try:
            info = os.stat(path.name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            raise ToolError(f"{relative!r} does not exist in the workspace") from None
        if stat.S_ISDIR(info.st_mode):
            try:
                os.rmdir(path.name, dir_fd=folder)
            except OSError as exc:
                raise ToolError(f"{relative!r} is a folder that is not empty") from exc
        else:
            os.unlink(path.name, dir_fd=folder)
    return {"deleted": shown(root, path)}


def register(registry: ToolRegistry) -> None:
    registry.add(
        "files_list",
        "List a folder of the workspace (the only place the files tools can reach).",
        ListArguments,
        files_list,
        timeout=10,
        reads_untrusted=True,  # names chosen by whoever made the files (downloads, commands)
    )
    registry.add(
        "files_read",
        "Read a text file of the workspace; long files come in chunks (use next_offset).",
        ReadArguments,
        files_read,
        timeout=10,
        reads_untrusted=True,  # workspace files come from anywhere: downloads, uploads, output
    )
    registry.add(
        "files_write",
        "Write (or append to) a text file in the workspace; folders are made as needed.",
        WriteArguments,
        files_write,
        risk="ask",
        timeout=10,
        sends_or_persists=True,  # a file stays for later turns (and for files_read to bring back)
    )
    registry.add(
        "files_delete",
        "Delete a file, or an empty folder, of the workspace.",
        DeleteArguments,
        files_delete,
        risk="ask",
        timeout=10,
        sends_or_persists=True,  # changes what AION keeps: the owner's files are gone for good
    )
