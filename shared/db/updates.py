"""The one-row `update_status` table: what the latest update check found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class Release:
    tag: str
    url: str | None
    notes: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class UpdateCheck:
    repo: str | None
    checked_at: datetime
    release: Release | None  # the latest release known for `repo`
    error: str | None
    not_before: datetime | None  # GitHub asked for no request before then


async def load(conn: Conn) -> UpdateCheck | None:
    cur = await conn.execute("SELECT * FROM update_status WHERE id = 1")
    row = await cur.fetchone()
    if row is None:
        return None
    release = None
    if row["latest_tag"] is not None:
        release = Release(
            row["latest_tag"], row["release_url"], row["release_notes"], row["published_at"]
        )
    return UpdateCheck(row["repo"], row["checked_at"], release, row["error"], row["not_before"])


async def record(
    conn: Conn, repo: str | None, release: Release | None, error: str | None = None
) -> None:
    """A check with a definite answer: the latest release of `repo`, or that it has none."""
    await conn.execute(
        """
        INSERT INTO update_status AS s (id, repo, checked_at, latest_tag, release_url,
                                        release_notes, published_at, error, not_before)
        VALUES (1, %(repo)s, now(), %(tag)s, %(url)s, %(notes)s, %(published)s, %(error)s, NULL)
        ON CONFLICT (id) DO UPDATE SET
            repo = EXCLUDED.repo, checked_at = EXCLUDED.checked_at,
            latest_tag = EXCLUDED.latest_tag, release_url = EXCLUDED.release_url,
            release_notes = EXCLUDED.release_notes, published_at = EXCLUDED.published_at,
            error = EXCLUDED.error, not_before = NULL
        """,
        {
            "repo": repo,
            "tag": release.tag if release else None,
            "url": release.url if release else None,
            "notes": release.notes if release else None,
            "published": release.published_at if release else None,
            "error": error,
        },
    )


async def record_failure(
    conn: Conn, repo: str, error: str, not_before: datetime | None = None
) -> None:
    """A check that got no answer: the release last found for the same repo is kept."""
    # In ON CONFLICT ... SET, `s.` is the row as it was before this statement.
    await conn.execute(
        """
        INSERT INTO update_status AS s (id, repo, checked_at, error, not_before)
        VALUES (1, %(repo)s, now(), %(error)s, %(not_before)s)
        ON CONFLICT (id) DO UPDATE SET
            checked_at = EXCLUDED.checked_at, error = EXCLUDED.error,
            not_before = EXCLUDED.not_before, repo = EXCLUDED.repo,
            latest_tag = CASE WHEN s.repo = EXCLUDED.repo THEN s.latest_tag END,
            release_url = CASE WHEN s.repo = EXCLUDED.repo THEN s.release_url END,
            release_notes = CASE WHEN s.repo = EXCLUDED.repo THEN s.release_notes END,
            published_at = CASE WHEN s.repo = EXCLUDED.repo THEN s.published_at END
        """,
        {"repo": repo, "error": error, "not_before": not_before},
    )
