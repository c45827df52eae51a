"""The files plugin: path checks (pure) and the tools end to end through a real worker."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.worker.plugins.files.workspace import (
    OutsideWorkspace,
    folder_inside,
    read_text,
    resolve_inside,
    write_text,
)
from services.worker.tools.registry import ToolError
from tests.helpers import announce_settings_changed, chat
from tests.plugin_helpers import call, run_tool


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    workspace = tmp_path / "workspace"
    (workspace / "sub").mkdir(parents=True)
    (workspace / "sub" / "note.txt").write_text("note")
    (workspace / "to-outside").symlink_to(tmp_path / "outside")
    (workspace / "secret-link").symlink_to(tmp_path / "outside" / "secret.txt")
    (workspace / "to-sub").symlink_to(workspace / "sub")
    return workspace.resolve()


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        "..",
        "~/x",
        "a\x00b",
        "to-outside",
        "to-outside/secret.txt",
        "to-outside/new-file.txt",
        "secret-link",
    ],
)
def test_paths_that_leave_the_workspace_are_refused(root: Path, path: str) -> None:
    with pytest.raises(OutsideWorkspace):
        resolve_inside(root, path)


def test_paths_inside_the_workspace(root: Path) -> None:
    assert resolve_inside(root, ".") == root
    assert resolve_inside(root, "") == root
    assert resolve_inside(root, "sub/note.txt") == root / "sub" / "note.txt"
    assert resolve_inside(root, "./sub//note.txt") == root / "sub" / "note.txt"
    assert resolve_inside(root, "to-sub/note.txt") == root / "sub" / "note.txt"
    assert resolve_inside(root, "new/deeper/file.txt") == root / "new" / "deeper" / "file.txt"


def test_reading_refuses_links_binaries_and_big_files(root: Path) -> None:
    with pytest.raises(OSError):  # O_NOFOLLOW: a link swapped in after the check
        read_text(root, root / "secret-link", 1000)
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ToolError, match="binary"):
        read_text(root, root / "blob.bin", 1000)
    (root / "big.txt").write_text("x" * 2000)
    with pytest.raises(ToolError, match="2000 bytes"):
        read_text(root, root / "big.txt", 1000)
    assert read_text(root, root / "sub" / "note.txt", 1000) == "note"


def test_a_folder_swapped_for_a_link_after_the_check_is_refused(root: Path) -> None:
    """The sandbox's commands share the workspace: one may replace a folder with a link out
    between the path check and the open. Reads, writes and listings then refuse."""
    note = resolve_inside(root, "sub/note.txt")
    planted = resolve_inside(root, "sub/planted.txt")
    (root / "sub").rename(root / "sub-moved")
    (root / "sub").symlink_to(root.parent / "outside")
    with pytest.raises(OutsideWorkspace):
        read_text(root, note.with_name("secret.txt"), 1000)
    with pytest.raises(OutsideWorkspace):
        write_text(root, planted, "planted", append=False)
    with pytest.raises(OutsideWorkspace):
        write_text(root, planted, "planted", append=True)
    with pytest.raises(OutsideWorkspace), folder_inside(root, note.parent):
        pass
    assert sorted(p.name for p in (root.parent / "outside").iterdir()) == ["secret.txt"]


# --- end to end ------------------------------------------------------------------------------


@pytest.fixture
async def writes_allowed(
    client: httpx.AsyncClient, db: object, redis_url: str
) -> AsyncIterator[None]:
    response = await client.post(
        "/api/config/settings",
        json={"tool_permissions": {"files_write": "allow", "files_delete": "allow"}},
    )
    assert response.status_code == 200
    yield
    await db.execute("DELETE FROM settings")  # type: ignore[attr-defined]
    await announce_settings_changed(redis_url)


async def test_a_write_asks_the_owner_first(
    client: httpx.AsyncClient, channel: str, workspace_dir: Path
) -> None:
    _, events = await chat(
        client, call("files_write", path=f"{channel}.txt", content="hi"), channel
    )
    # The approval, then its question as text (kept for old clients), then the end.
    (approval,) = [e for e in events if e.type == "approval"]
    assert events[-1].type == "done" and events[-1].data["approval_pending"] is True, events
    assert approval.data["tool"] == "files_write"
    assert not (workspace_dir / f"{channel}.txt").exists()


async def test_write_read_list_delete(
    client: httpx.AsyncClient, channel: str, workspace_dir: Path, writes_allowed: None
) -> None:
    path = f"{channel}/notes/today.md"
    written = await run_tool(client, channel, "files_write", path=path, content="line 1\n")
    assert written["ok"] is True, written
    appended = await run_tool(
        client, channel, "files_write", path=path, content="line 2\n", mode="append"
    )
    assert appended["result"]["bytes"] == 14
    assert (workspace_dir / path).read_text() == "line 1\nline 2\n"

    read = await run_tool(client, channel, "files_read", path=path)
    assert read["ok"] is True and read["result"]["content"] == "line 1\nline 2\n"
    paged = await run_tool(client, channel, "files_read", path=path, offset=7, max_chars=4)
    assert paged["result"]["content"] == "line" and paged["result"]["next_offset"] == 11

    listed = await run_tool(client, channel, "files_list", path=f"{channel}/notes")
    assert listed["result"]["entries"] == [{"name": "today.md", "type": "file", "bytes": 14}]

    deleted = await run_tool(client, channel, "files_delete", path=path)
    assert deleted["ok"] is True and not (workspace_dir / path).exists()
    missing = await run_tool(client, channel, "files_read", path=path)
    assert missing["ok"] is False and "not a file" in missing["result"]


async def test_escapes_are_refused_end_to_end(
    client: httpx.AsyncClient, channel: str, workspace_dir: Path, writes_allowed: None
) -> None:
    outside = workspace_dir.parent / f"outside-{channel}"
    outside.mkdir()
    (outside / "secret.txt").write_text("the secret")
    (workspace_dir / f"{channel}-link").symlink_to(outside)
    attempts = [
        ("files_read", {"path": "/etc/passwd"}),
        ("files_read", {"path": f"../outside-{channel}/secret.txt"}),
        ("files_read", {"path": f"{channel}-link/secret.txt"}),
        ("files_list", {"path": f"{channel}-link"}),
        ("files_list", {"path": ".."}),
        ("files_write", {"path": f"{channel}-link/planted.txt", "content": "x"}),
        ("files_write", {"path": f"../{channel}-planted.txt", "content": "x"}),
        ("files_delete", {"path": f"{channel}-link/secret.txt"}),
    ]
    for name, args in attempts:
        result = await run_tool(client, channel, name, **args)
        assert result["ok"] is False, (name, args, result)
        assert "the secret" not in str(result["result"])
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "the secret"
    assert not (workspace_dir.parent / f"{channel}-planted.txt").exists()


def test_compose_gives_the_worker_its_workspace_volume(tmp_path: Path) -> None:
    from tests.test_compose import BASE_ENV, load_config

    worker = load_config(tmp_path, BASE_ENV)["services"]["worker"]
    assert worker["environment"]["AION_WORKSPACE_DIR"] == "/data/workspace"
    mounts = {m["target"]: m["source"] for m in worker["volumes"]}
    assert mounts["/data/workspace"] == "workspace"
