"""Small wrappers over the docker CLI for local images (nothing here talks to a registry)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from tests.compose.proc import output_of, run, succeeds

# Every image we make carries the hash of what made it; an equal hash means nothing to rebuild.
RECIPE_LABEL = "org.aion.standin.recipe"


def digest(parts: Iterable[str | bytes]) -> str:
    """A short, stable hash of a recipe's parts (each part framed so no two concatenate alike)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:24]


def recipe_of(tag: str) -> str | None:
    """The recipe label of local image `tag`, or None when there is no such image (or label)."""
    label_format = f'{{{{ index .Config.Labels "{RECIPE_LABEL}" }}}}'
    out = output_of(["docker", "image", "inspect", "--format", label_format, tag])
    return (out or "").strip() or None


def import_tarball(tarball: Path, tag: str, changes: Iterable[str], recipe: str) -> None:
    """`docker import` a root filesystem tarball as `tag`, with Dockerfile-style metadata."""
    args = ["docker", "import"]
    for change in [*changes, f"LABEL {RECIPE_LABEL}={recipe}"]:
        args += ["--change", change]
    run([*args, str(tarball), tag], f"importing {tarball.name} as {tag}", timeout=900)


def remove_container(name: str) -> None:
    """Remove a container and its anonymous volumes if it exists (cleanup; never fails)."""
    succeeds(["docker", "rm", "-f", "-v", name], timeout=60)
