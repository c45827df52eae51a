"""Local stand-ins for the registry images our Dockerfile and compose file start from.

No container registry is reachable where the compose tests run, so `python:3.11-slim`,
`pgvector/pgvector:pg16` and `redis:7-alpine` cannot be pulled. We make images that behave the
same from Debian packages (debootstrap, then apt in a container, then `docker import`) and tag
them `aion-standin/...`; the test passes those names where the project names the official ones.

Each image is labelled with the hash of its recipe (setup scripts, files, metadata, base); an
image whose label matches is reused, so only a changed recipe costs a rebuild.

    python -m tests.compose.standins [NAME ...]   # ensure the engine and the stand-ins
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from tests.compose.engine import docker_env, ensure_commands, ensure_engine
from tests.compose.images import digest, import_tarball, recipe_of, remove_container
from tests.compose.proc import StandinError, run
from tests.compose.recipes import FILES_DIR, HOST_CA_BUNDLE, STANDINS, StandIn
from tests.compose.rootfs import DEFAULT_CACHE_DIR, ensure_base_image

log = logging.getLogger(__name__)

SETUP_SECONDS = 1800  # apt inside the build container; ~1-2 minutes here


def _context_files(standin: StandIn) -> dict[str, bytes]:
    """The files copied into the build container's /tmp/standin, by name."""
    files = {"common.sh": (FILES_DIR / "common.sh").read_bytes()}
    for path in sorted(standin.files_dir.iterdir()):
        if path.is_file():
            files[path.name] = path.read_bytes()
    if "setup.sh" not in files:
        raise StandinError(f"{standin.files_dir} has no setup.sh")
    if standin.host_ca:
        if not HOST_CA_BUNDLE.is_file():
            raise StandinError(f"the host CA bundle {HOST_CA_BUNDLE} is missing")
        files["host-ca.crt"] = HOST_CA_BUNDLE.read_bytes()
    return files


def recipe_hash(standin: StandIn) -> str:
    """The hash that decides whether a stand-in image is current: everything that makes it."""
    parts: list[str | bytes] = ["standin-v1", standin.rootfs.recipe, standin.rootfs.security_mirror]
    parts += [*standin.changes, "stop-signal", standin.stop_signal or "", *standin.check]
    for name, data in _context_files(standin).items():
        parts += [name, data]
    return digest(parts)


def _run_setup(standin: StandIn, base: str, files: dict[str, bytes], export: Path) -> None:
    """Run setup.sh in a container of `base` (host network: apt needs the mirror) and export it."""
    name = f"aion-standin-build-{standin.files}-{uuid.uuid4().hex[:8]}"
    what = f"building the {standin.reference} stand-in"
    with tempfile.TemporaryDirectory(prefix="aion-standin-") as scratch:
        context = Path(scratch)
        for file_name, data in files.items():
            (context / file_name).write_bytes(data)
        try:
            run(
                [
                    "docker", "create", "--name", name, "--network", "host",
                    "-e", f"MIRROR={standin.rootfs.mirror}",
                    "-e", f"SECURITY_MIRROR={standin.rootfs.security_mirror}",
                    base, "/bin/sh", "/tmp/standin/setup.sh",
                ],
                f"{what}: creating the build container",
            )  # fmt: skip
            run(["docker", "cp", f"{context}/.", f"{name}:/tmp/standin"], f"{what}: copying files")
            run(["docker", "start", "--attach", name], f"{what}: setup.sh", timeout=SETUP_SECONDS)
            run(["docker", "export", "--output", str(export), name], f"{what}: exporting")
        finally:
            remove_container(name)


def _build(standin: StandIn, recipe: str, cache_dir: Path) -> None:
    """Make the stand-in image from scratch (base image, setup.sh, import, stop signal, check)."""
    base = ensure_base_image(standin.rootfs, cache_dir)
    files = _context_files(standin)
    imported = f"{standin.tag}-import" if standin.stop_signal else standin.tag
    with tempfile.TemporaryDirectory(prefix=f"export-{standin.files}-", dir=cache_dir) as scratch:
        export = Path(scratch) / "rootfs.tar"
        _run_setup(standin, base, files, export)
        import_tarball(export, imported, standin.changes, recipe)
    if standin.stop_signal:
        # Docker 20.10 refuses STOPSIGNAL in `import --change`; a metadata-only classic build
        # (no context, no registry) adds it.
        run(
            ["docker", "build", "--tag", standin.tag, "-"],
            f"setting STOPSIGNAL on {standin.tag}",
            input_text=f"FROM {imported}\nSTOPSIGNAL {standin.stop_signal}\n",
            env=docker_env(buildkit=False),
        )
        run(["docker", "rmi", imported], f"untagging {imported}")
    try:
        run(
            ["docker", "run", "--rm", "--network", "none", "--entrypoint", "", standin.tag,
             *standin.check],
            f"checking the new {standin.tag}",
            timeout=120,
        )  # fmt: skip
    except StandinError:
        run(["docker", "rmi", standin.tag], f"removing the failed {standin.tag}")
        raise


def ensure_standin(standin: StandIn, cache_dir: Path = DEFAULT_CACHE_DIR) -> bool:
    """Make sure `standin.tag` is current; True when it had to be built."""
    recipe = recipe_hash(standin)
    if recipe_of(standin.tag) == recipe:
        log.info("%s is current (recipe %s)", standin.tag, recipe)
        return False
    started = time.monotonic()
    log.info("building %s (for %s)", standin.tag, standin.reference)
    _build(standin, recipe, cache_dir)
    log.info("built %s in %.0fs", standin.tag, time.monotonic() - started)
    return True


@contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    """One preparer at a time on this machine (two pytest runs must not build the same tags)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def select(names: Sequence[str] = ()) -> tuple[StandIn, ...]:
    """The stand-ins named by reference, tag or files folder (all of them for no names)."""
    if not names:
        return STANDINS
    chosen = [s for s in STANDINS if {s.reference, s.tag, s.files} & set(names)]
    known = {n for s in chosen for n in (s.reference, s.tag, s.files)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise StandinError(f"no stand-in named {', '.join(unknown)}")
    return tuple(chosen)


def ensure_standins(
    names: Sequence[str] = (), cache_dir: Path = DEFAULT_CACHE_DIR
) -> dict[str, str]:
    """Ensure the engine and the stand-ins; map each official reference to its local tag.

    The Debian releases are bootstrapped side by side, then the stand-ins are built side by
    side (apt downloads and dpkg runs overlap well on two cores).
    """
    chosen = select(names)
    ensure_engine()
    ensure_commands(["debootstrap"])
    with _cache_lock(cache_dir), ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        pending = [s for s in chosen if recipe_of(s.tag) != recipe_hash(s)]
        roots = {s.rootfs for s in pending}
        list(pool.map(lambda r: ensure_base_image(r, cache_dir), roots))
        list(pool.map(lambda s: ensure_standin(s, cache_dir), chosen))
    return {s.reference: s.tag for s in chosen}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ensure the engine and the stand-ins, print `official -> stand-in` lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help="only these (reference, tag or folder name)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    started = time.monotonic()
    try:
        mapping = ensure_standins(args.names, args.cache_dir)
    except StandinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for reference, tag in mapping.items():
        print(f"{reference} -> {tag}")
    log.info("done in %.0fs", time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
