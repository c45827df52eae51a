"""Release versions: what counts as an update of the running AION (PEP 440, via `packaging`).

Release tags are versions with an optional `v` prefix (`v0.2.0`, `0.3.0rc1`). The tag without
that prefix is both the version shown to the owner and the container image tag to pull.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

_V_PREFIX = re.compile(r"^[vV](?=\d)")


def release_version(tag: str) -> str:
    """`v1.2.3` -> `1.2.3`; any other tag is returned as it is (trimmed)."""
    return _V_PREFIX.sub("", tag.strip())


def parse_version(tag: str) -> Version | None:
    try:
        return Version(release_version(tag))
    except InvalidVersion:
        return None


def is_newer(latest_tag: str, current: str) -> bool:
    """True when the release is newer than the running version.

    A pre-release is offered only to an install that runs a pre-release itself, the way pip
    treats them; a tag that is not a version is never an update.
    """
    latest, running = parse_version(latest_tag), parse_version(current)
    if latest is None or running is None:
        return False
    if latest.is_prerelease and not running.is_prerelease:
        return False
    return latest > running
