"""Update status and the owner's "check now": the check itself runs in a worker."""

from __future__ import annotations

import time

from arq.constants import job_key_prefix

from services.api.context import AppContext
from services.api.schemas.status import UpdateStatus, UpdateTrigger
from shared import __version__
from shared.db import Conn
from shared.db import updates as repo
from shared.jobs import CHECK_UPDATES, JOBS_WAKE_CHANNEL, UPDATE_CHECK_JOB_ID, UpdateCheckJob
from shared.updates import is_newer, release_version

NEVER_CHECKED = "No update check has run yet; POST /api/update-trigger starts one."


async def status(ctx: AppContext, conn: Conn) -> UpdateStatus:
    """The stored result, compared with the version this api runs (it may be newer by now)."""
    stored = await repo.load(conn)
    checking = bool(await ctx.redis.exists(job_key_prefix + UPDATE_CHECK_JOB_ID))
    current = __version__
    if stored is None:
        return UpdateStatus(
            current_version=current,
            latest_version=None,
            update_available=False,
            release_url=None,
            release_notes=None,
            last_checked=None,
            error=None,
            image_tag=None,
            repo=None,
            published_at=None,
            checking=checking,
            message=NEVER_CHECKED,
        )
    release = stored.release
    latest = release_version(release.tag) if release else None
    available = release is not None and is_newer(release.tag, current)
    return UpdateStatus(
        current_version=current,
        latest_version=latest,
        update_available=available,
        release_url=release.url if release else None,
        release_notes=release.notes if release else None,
        last_checked=stored.checked_at,
        error=stored.error,
        image_tag=latest if available else None,
        repo=stored.repo,
        published_at=release.published_at if release else None,
        checking=checking,
        message=_message(current, latest, available, stored.error),
    )


def _message(current: str, latest: str | None, available: bool, error: str | None) -> str:
    if available:
        text = (
            f"AION {latest} is available (this is {current}). Containers: run the images tagged "
            f"{latest} (pull them, then restart api, worker and the others); a source checkout: "
            "check out that release and rebuild."
        )
    elif latest is not None:
        text = f"AION {current} is up to date (the latest release is {latest})."
    else:
        text = ""
    if error is not None:
        text = f"{text} The last check failed: {error}" if text else error
    return text


async def trigger(ctx: AppContext) -> UpdateTrigger:
    """Queue a check under the one fixed job id, so repeated triggers do not pile up."""
    job = UpdateCheckJob(requested_at_ms=int(time.time() * 1000))
    queued = await ctx.redis.enqueue_job(
        CHECK_UPDATES, job.model_dump(), _job_id=UPDATE_CHECK_JOB_ID
    )
    await ctx.redis.publish(JOBS_WAKE_CHANNEL, b"1")
    if queued is None:
        return UpdateTrigger(message="An update check is already queued or running.")
    return UpdateTrigger(
        message="Update check queued; GET /api/update-status shows its result in a few seconds."
    )
