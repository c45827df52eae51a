"""Which requirement locks the project has, and a small reader for them and their `.in` files.

Shared by `make lock` (scripts/lock.py), the licence notices (scripts/notices.py) and
tests/test_locks.py, so the three agree on the list. Each image installs one lock; the dev lock
(what `make venv` installs) is the union of all of them plus the tools, and is resolved first:
every image lock is then resolved with the dev lock as its constraints file, so one package has
one version everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Lock:
    name: str  # the image (Dockerfile target) or "dev"
    source: str  # the hand-edited top-level pins, relative to the repository
    output: str  # the generated lock beside it


DEV = Lock("dev", "requirements-dev.in", "requirements-dev.txt")
IMAGES = (
    Lock("api", "services/api/requirements.in", "services/api/requirements.txt"),
    Lock("worker", "services/worker/requirements.in", "services/worker/requirements.txt"),
    Lock("tts", "services/tts/requirements.in", "services/tts/requirements.txt"),
    Lock("telegram", "services/telegram/requirements.in", "services/telegram/requirements.txt"),
    Lock("migrate", "migrations/requirements.in", "migrations/requirements.txt"),
    Lock("sandbox", "services/sandbox/requirements.in", "services/sandbox/requirements.txt"),
)
ALL = (DEV, *IMAGES)
# Declared dependencies left out of every lock (uv pip compile --excludes); see the file.
EXCLUDES = "requirements-excludes.txt"


def canonical(name: str) -> str:
    """PEP 503 normalised name: how pip, uv and PyPI compare package names."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Pin:
    name: str  # canonical
    version: str
    marker: str  # "" when the package is for every platform
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)  # uv's annotations: "-r file", "-c file", names


_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$"
)
_HASH = re.compile(r"^--hash=(sha256:[0-9a-f]{64})\s*\\?$")


class LockError(ValueError):
    """A lock line that is not `name==version` with hashes, as uv writes it."""


def read_lock(path: Path) -> dict[str, Pin]:
    """Canonical name → pin, from a `uv pip compile --generate-hashes` output."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            if current is not None and text.startswith("via"):
                rest = text[3:].strip()
                in_via = not rest
                if rest:
                    current.via.append(rest)
            elif current is not None and in_via and raw.startswith("    #   "):
                current.via.append(text)
            continue
        in_via = False
        hashed = _HASH.match(line)
        if hashed:
            if current is None:
                raise LockError(f"{path}:{number}: a hash before any package")
            current.hashes.append(hashed.group(1))
            continue
        pinned = _PIN.match(line)
        if not pinned:
            raise LockError(f"{path}:{number}: not a pinned requirement: {line}")
        name = canonical(pinned.group(1))
        current = Pin(name, pinned.group(3), (pinned.group(4) or "").strip())
        if name in pins:
            raise LockError(f"{path}:{number}: {name} is pinned twice")
        pins[name] = current
    return pins


_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def read_inputs(path: Path) -> dict[str, str]:
    """Canonical name → pinned version of a `.in` file and the `.in` files it `-r` includes."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(read_inputs(path.parent / line[3:].strip()))
            continue
        match = _REQUIREMENT.match(line)
        if not match:
            raise LockError(f"{path}: every top-level requirement is pinned with ==: {line}")
        pins[canonical(match.group(1))] = match.group(3)
    return pins


def input_files(path: Path, root: Path) -> set[str]:
    """A `.in` file and those it includes, as uv names them in `# via -r ...` (root-relative)."""
    files = {path.relative_to(root).as_posix()}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            files |= input_files(path.parent / line[3:].strip(), root)
    return files


def direct_sources(pin: Pin) -> set[str]:
    """The `.in` files that name this pin directly (uv's `-r file` annotations)."""
    return {via[3:].strip() for via in pin.via if via.startswith("-r ")}


def stale(lock: Lock, root: Path = REPO) -> list[str]:
    """How a lock disagrees with its `.in` inputs; empty when `make lock` has nothing to redo.

    Every top-level pin must be in the lock at that version, and every package the lock says a
    `.in` file asked for must still be asked for (it was removed or renamed otherwise).
    """
    inputs = read_inputs(root / lock.source)
    pins = read_lock(root / lock.output)
    sources = input_files(root / lock.source, root)
    problems = []
    for name, version in sorted(inputs.items()):
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{lock.output} lacks {name}, pinned in {lock.source}'s inputs")
        elif pin.version != version:
            problems.append(f"{lock.output} has {name} {pin.version}; the inputs pin {version}")
    for pin in pins.values():
        if direct_sources(pin) & sources and pin.name not in inputs:
            problems.append(f"{lock.output} has {pin.name} as a top-level pin the inputs dropped")
    return [f"{problem} (run `make lock`)" for problem in problems]
