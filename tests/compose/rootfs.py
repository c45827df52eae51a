"""Debian root filesystems made by debootstrap, kept as tarballs and as local base images.

No registry is reachable, so every stand-in starts from a debootstrapped Debian. A minbase
debootstrap takes ~40s; its tarball is kept in the cache folder so a wiped Docker store (or
a new engine) costs an import, not a new bootstrap.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.compose.images import digest, import_tarball, recipe_of
from tests.compose.proc import StandinError, run

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path("/var/cache/aion-standins")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"


@dataclass(frozen=True)
class Rootfs:
    """One debootstrapped Debian release: what to bootstrap and from where."""

    suite: str
    variant: str = "minbase"
    mirror: str = DEBIAN_MIRROR
    security_mirror: str = SECURITY_MIRROR

    @property
    def recipe(self) -> str:
        """The hash of everything that decides this root filesystem's contents."""
        return digest(["rootfs-v1", self.suite, self.variant, self.mirror])

    @property
    def tag(self) -> str:
        """The local base image made from it."""
        return f"aion-standin/debian:{self.suite}-{self.variant}"

    def tarball(self, cache_dir: Path) -> Path:
        """Where its tarball is kept (the recipe hash in the name: a changed recipe misses)."""
        return cache_dir / f"debian-{self.suite}-{self.variant}-{self.recipe}.tar"


def _unmount_below(root: Path) -> None:
    """Unmount anything a failed debootstrap left mounted in `root` (proc, sys), deepest first.

    Deleting the tree through a live /proc or /sys mount would fail, or worse.
    """
    mounts = [
        line.split()[1] for line in Path("/proc/mounts").read_text().splitlines() if line.split()
    ]
    prefix = str(root.resolve()) + "/"
    for mount in sorted((m for m in mounts if m.startswith(prefix)), reverse=True):
        run(["umount", "-l", mount], f"unmounting {mount} left by debootstrap")


def _bootstrap(rootfs: Rootfs, tarball: Path) -> None:
    """debootstrap `rootfs` into a scratch folder and pack it into `tarball`."""
    tarball.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"debootstrap-{rootfs.suite}-", dir=tarball.parent))
    target = scratch / "root"
    partial = tarball.with_suffix(".partial")
    try:
        log.info("debootstrap %s (%s) from %s", rootfs.suite, rootfs.variant, rootfs.mirror)
        run(
            [
                "debootstrap",
                f"--variant={rootfs.variant}",
                rootfs.suite,
                str(target),
                rootfs.mirror,
            ],
            f"debootstrap of Debian {rootfs.suite}",
            timeout=1200,
        )
        # The downloaded .debs (~30MB) are of no use in an image.
        for deb in (target / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(target), "-cf", str(partial), "."],
            f"packing the {rootfs.suite} root filesystem",
        )
        partial.replace(tarball)
    finally:
        if target.exists():
            _unmount_below(target)
        shutil.rmtree(scratch, ignore_errors=True)
        partial.unlink(missing_ok=True)


def ensure_base_image(rootfs: Rootfs, cache_dir: Path = DEFAULT_CACHE_DIR) -> str:
    """The tag of a local image holding `rootfs`, made (from the cached tarball) if missing."""
    if recipe_of(rootfs.tag) == rootfs.recipe:
        return rootfs.tag
    tarball = rootfs.tarball(cache_dir)
    if not tarball.exists():
        _bootstrap(rootfs, tarball)
    if not tarball.is_file():
        raise StandinError(f"no root filesystem tarball at {tarball} after debootstrap")
    import_tarball(tarball, rootfs.tag, ['CMD ["bash"]'], rootfs.recipe)
    log.info("imported %s as %s", tarball.name, rootfs.tag)
    return rootfs.tag
