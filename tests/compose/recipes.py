"""The stand-ins: which official image each replaces, and how it is made from Debian.

Adding one is a row in STANDINS and a folder in files/ with its setup.sh (run in a container of
the debootstrapped release, after files/common.sh) and whatever files that script installs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.compose.rootfs import Rootfs

FILES_DIR = Path(__file__).resolve().parent / "files"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Where setup.sh scripts install the host's CA bundle (see files/python/setup.sh).
IMAGE_CA_BUNDLE = "/etc/ssl/aion-host-ca.crt"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

BOOKWORM = Rootfs("bookworm")
TRIXIE = Rootfs("trixie")


@dataclass(frozen=True)
class StandIn:
    """A local image that does, for our tests, what an official registry image does."""

    reference: str  # the official image, as the Dockerfile and compose file name it
    tag: str  # the local stand-in's tag
    rootfs: Rootfs  # the Debian release it is made from
    files: str  # its folder in files/: setup.sh and the files that script installs
    changes: tuple[str, ...]  # Dockerfile instructions `docker import --change` applies
    check: tuple[str, ...]  # a command that must succeed in the new image (entrypoint bypassed)
    stop_signal: str | None = None  # STOPSIGNAL (docker import cannot set it; a tiny build does)
    host_ca: bool = False  # whether setup.sh gets the host's CA bundle as host-ca.crt

    @property
    def files_dir(self) -> Path:
        return FILES_DIR / self.files


_CA_ENV = (
    f"ENV SSL_CERT_FILE={IMAGE_CA_BUNDLE} PIP_CERT={IMAGE_CA_BUNDLE} "
    f"REQUESTS_CA_BUNDLE={IMAGE_CA_BUNDLE}"
)

PYTHON = StandIn(
    reference="python:3.11-slim",
    tag="aion-standin/python:3.11-slim",
    rootfs=BOOKWORM,
    files="python",
    changes=(
        f"ENV PATH=/usr/local/bin:{SYSTEM_PATH} LANG=C.UTF-8",
        _CA_ENV,
        'CMD ["python3"]',
    ),
    check=(
        "sh",
        "-ec",
        "python -c 'import sys, ssl, venv, ensurepip; assert sys.version_info[:2] == (3, 11)'"
        " && pip --version && command -v groupadd useradd",
    ),
    host_ca=True,
)

PGVECTOR = StandIn(
    reference="pgvector/pgvector:pg16",
    tag="aion-standin/pgvector:pg16",
    rootfs=TRIXIE,
    files="postgres",
    changes=(
        f"ENV PG_MAJOR=17 PATH=/usr/lib/postgresql/17/bin:{SYSTEM_PATH} LANG=C.UTF-8 "
        "PGDATA=/var/lib/postgresql/data",
        "VOLUME /var/lib/postgresql/data",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        "EXPOSE 5432",
        'CMD ["postgres"]',
    ),
    check=(
        "sh",
        "-ec",
        "postgres --version && pg_isready --version && psql --version"
        " && test -f /usr/share/postgresql/17/extension/vector.control && command -v setpriv",
    ),
    # As upstream: SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
    stop_signal="SIGINT",
)

REDIS = StandIn(
    reference="redis:7-alpine",
    tag="aion-standin/redis:7-alpine",
    rootfs=BOOKWORM,
    files="redis",
    changes=(
        f"ENV PATH={SYSTEM_PATH} LANG=C.UTF-8",
        "VOLUME /data",
        "WORKDIR /data",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        "EXPOSE 6379",
        'CMD ["redis-server"]',
    ),
    check=("sh", "-ec", "redis-server --version | grep -q 'v=7\\.' && redis-cli --version"),
)

NODE = StandIn(
    reference="node:20-slim",
    tag="aion-standin/node:20-slim",
    rootfs=TRIXIE,
    files="node",
    changes=(
        f"ENV PATH={SYSTEM_PATH} LANG=C.UTF-8 NODE_EXTRA_CA_CERTS={IMAGE_CA_BUNDLE}",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["node"]',
    ),
    check=("sh", "-ec", "node --version | grep -q '^v20\\.' && npm --version"),
    host_ca=True,
)

STANDINS: tuple[StandIn, ...] = (PYTHON, PGVECTOR, REDIS, NODE)
