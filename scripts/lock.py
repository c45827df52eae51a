"""`make lock`: regenerate every requirements lock from its `.in` file with uv.

Why uv (`uv pip compile`) rather than pip-tools: one static binary pinned in requirements-dev.in,
a universal resolution (one lock valid on linux x86_64 and aarch64, with environment markers
where a dependency is platform-specific), `--excludes` to leave out a declared dependency we
never install, and it reads no pip configuration, so this machine's extra local indexes and
find-links cannot leak a local file or a local-only hash into a committed lock.

Order: the dev lock (the union of every image's inputs plus the tools) is resolved first; each
image lock is then resolved with the dev lock as its constraints file, so a package shared by
two images (onnxruntime, pydantic, ...) has the same version in both, and in the dev
environment the tests run in. Existing locks are kept where they still satisfy the inputs;
extra arguments go to the dev resolution, e.g. `make lock ARGS="--upgrade-package fastapi"`
or `ARGS=--upgrade`.

Afterwards every lock is checked to install from wheels alone on Python 3.11 for both linux
architectures the images are built for (a dry run: nothing is downloaded but metadata).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from scripts.locks import ALL, DEV, EXCLUDES, IMAGES, REPO, Lock

PYTHON = "3.11"
INDEX = "https://pypi.org/simple"
PLATFORMS = ("x86_64-manylinux_2_28", "aarch64-manylinux_2_28")  # python:3.11-slim is glibc 2.36
# Settings that would point uv at another index; the locks' hashes are PyPI's.
_UV_INDEX_VARIABLES = (
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_CONSTRAINT",
    "UV_OVERRIDE",
)


def _uv(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _UV_INDEX_VARIABLES}
    command = [sys.executable, "-m", "uv", *args]
    print("+", " ".join(command[2:]), flush=True)
    subprocess.run(command, cwd=REPO, env=env, check=True)


def compile_lock(lock: Lock, extra: Sequence[str] = ()) -> None:
    constraints = [] if lock is DEV else ["--constraints", DEV.output]
    _uv(
        "pip",
        "compile",
        lock.source,
        "--output-file",
        lock.output,
        "--universal",
        "--python-version",
        PYTHON,
        "--generate-hashes",
        "--no-config",
        "--default-index",
        INDEX,
        "--excludes",
        EXCLUDES,
        "--custom-compile-command",
        "make lock",
        "--quiet",
        *constraints,
        *extra,
    )


def check_installable(lock: Lock) -> None:
    """Resolve the lock as pip will install it in each image: hashed, no dependencies, wheels."""
    for platform in PLATFORMS:
        with tempfile.TemporaryDirectory() as target:
            _uv(
                "pip",
                "install",
                "--dry-run",
                "--quiet",
                "--no-config",
                "--default-index",
                INDEX,
                "--python-version",
                PYTHON,
                "--python-platform",
                platform,
                "--only-binary",
                ":all:",
                "--no-deps",
                "--require-hashes",
                "--target",
                target,
                "--requirements",
                lock.output,
            )


def main(argv: Sequence[str]) -> int:
    compile_lock(DEV, argv)
    for lock in IMAGES:
        compile_lock(lock)
    for lock in ALL:
        check_installable(lock)
    print("locks written: " + ", ".join(lock.output for lock in ALL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
