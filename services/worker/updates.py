"""The update check: the latest GitHub release of AION_UPDATE_REPO, stored for the api to show.

Runs daily (arq cron, and once when a worker starts) and whenever the owner asks
(`check_updates`, one fixed job id). It never raises for the outside world's failures: offline,
a timeout, no release, a rate limit or a strange answer all end up as the stored `error`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pydantic
from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function
from pydantic import BaseModel, ConfigDict, Field

from services.worker import notify
from services.worker.context import WorkerContext
from services.worker.settings import WorkerSettings
from shared import __version__
from shared.db import updates as repo_db
from shared.db.updates import Release
from shared.jobs import CHECK_UPDATES, UpdateCheckJob
from shared.updates import is_newer, parse_version, release_version

log = logging.getLogger("aion.worker.updates")

CHECK_UPDATES_DAILY = "check_updates_daily"
JOB_TIMEOUT_S = 150  # above the longest allowed AION_UPDATE_TIMEOUT_SECONDS
MAX_NOTES_CHARS = 20_000
# GitHub's own limits on account and repository names.
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_GITHUB_URL = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/", re.I)
# The longest wait a rate-limit answer can impose on us (a broken proxy might say years).
_MAX_BACKOFF = timedelta(hours=24)
NOT_SET = (
    "AION_UPDATE_REPO is not set, so AION does not check for updates; set it to the owner/name "
    "of AION's GitHub repository."
)


class _GitHubRelease(BaseModel):
    """The part of GitHub's release object that we read."""

    model_config = ConfigDict(extra="ignore")

    tag_name: str = Field(min_length=1, max_length=200)
    html_url: str | None = None
    body: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Found:
    release: Release


@dataclass(frozen=True, slots=True)
class NoRelease:
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str
    not_before: datetime | None = None


Outcome = Found | NoRelease | Failed


async def check_updates(ctx: dict[str, Any], job: dict[str, Any]) -> str:
    """arq entry point of a check the owner asked for."""
    UpdateCheckJob.model_validate(job)
    return await run_check(ctx["aion"])


async def check_updates_daily(ctx: dict[str, Any]) -> str:
    """arq cron entry point."""
    return await run_check(ctx["aion"])


def check_function() -> Function:
    """The owner's check; keep_result=0 frees the fixed job id as soon as a check ends."""
    return func(check_updates, name=CHECK_UPDATES, keep_result=0, timeout=JOB_TIMEOUT_S)  # type: ignore[arg-type]


def daily_cron() -> CronJob:
    """Daily, and once as each worker starts. Its own name: after a cron run arq keeps the job's
    in-progress marker for a minute, which would hold back a trigger that shared the name."""
    return cron(
        check_updates_daily,  # type: ignore[arg-type]
        name=CHECK_UPDATES_DAILY,
        hour={4},
        minute={17},
        run_at_startup=True,
        timeout=JOB_TIMEOUT_S,
    )


def normalize_repo(value: str) -> str | None:
    """`owner/name`, also from a pasted github.com URL; None when it is not a repository."""
    repo = _GITHUB_URL.sub("", value.strip()).strip("/").removesuffix(".git")
    return repo if _REPO.match(repo) else None


async def run_check(app: WorkerContext) -> str:
    """One check, stored; returns a short word for arq's log."""
    settings = app.settings
    raw = (settings.aion_update_repo or "").strip()
    repo = normalize_repo(raw) if raw else None
    async with app.pool.connection() as conn:
        if not raw:
            await repo_db.record(conn, None, None, NOT_SET)
            return "repo unset"
        if repo is None:
            error = f"AION_UPDATE_REPO {raw[:120]!r} is not a GitHub repository (owner/name)."
            await repo_db.record(conn, None, None, error)
            return "repo invalid"
        previous = await repo_db.load(conn)
    now = datetime.now(UTC)
    if previous and previous.repo == repo and previous.not_before and previous.not_before > now:
        # GitHub asked us to wait: asking again early risks a ban of this address.
        outcome: Outcome = Failed(_rate_limit_message(previous.not_before), previous.not_before)
    else:
        outcome = await fetch_latest(settings, repo)
    async with app.pool.connection() as conn:
        if isinstance(outcome, Found):
            await repo_db.record(conn, repo, outcome.release)
        elif isinstance(outcome, NoRelease):
            await repo_db.record(conn, repo, None, outcome.reason)
        else:
            await repo_db.record_failure(conn, repo, outcome.reason, outcome.not_before)
    if isinstance(outcome, Found) and is_newer(outcome.release.tag, __version__):
        release = outcome.release
        await notify.update_available(app, __version__, release_version(release.tag), release.url)
    return _log_outcome(repo, outcome)


def _log_outcome(repo: str, outcome: Outcome) -> str:
    extra = {"repo": repo}
    if isinstance(outcome, Found):
        tag = outcome.release.tag
        newer = is_newer(tag, __version__)
        state = "newer" if newer else "not newer"
        log.info("update check: latest release %s (%s)", tag, state, extra=extra)
        return "update available" if newer else "up to date"
    log.warning("update check failed: %s", outcome.reason, extra=extra)
    return "no release" if isinstance(outcome, NoRelease) else "failed"


async def fetch_latest(settings: WorkerSettings, repo: str) -> Outcome:
    """GET /repos/{repo}/releases/latest (GitHub leaves out drafts and pre-releases)."""
    base = settings.aion_update_api_url.rstrip("/")
    timeout = settings.aion_update_timeout_seconds
    host = urlsplit(base).hostname or "the GitHub API"
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": f"AION/{__version__} (update check)",
    }
    try:
        # asyncio.timeout bounds the whole exchange; httpx's timeout only each read or write.
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(headers=headers, timeout=timeout, follow_redirects=True) as http,
        ):
            response = await http.get(f"{base}/repos/{repo}/releases/latest")
    except (TimeoutError, httpx.TimeoutException):
        return Failed(f"{host} did not answer within {timeout:g} s.")
    except httpx.HTTPError as exc:
        reason = str(exc)[:200] or exc.__class__.__name__
        return Failed(f"Could not reach {host} ({reason}).")
    return _interpret(response, repo, datetime.now(UTC))


def _interpret(response: httpx.Response, repo: str, now: datetime) -> Outcome:
    status = response.status_code
    if status == 200:
        try:
            found = _GitHubRelease.model_validate_json(response.content)
        except pydantic.ValidationError:
            return Failed("GitHub's answer was not a release.")
        if parse_version(found.tag_name) is None:
            return Failed(f"The latest release's tag {found.tag_name[:80]!r} is not a version.")
        notes = found.body
        if notes is not None and len(notes) > MAX_NOTES_CHARS:
            notes = notes[:MAX_NOTES_CHARS] + "…"
        return Found(Release(found.tag_name, found.html_url, notes, found.published_at))
    if status == 404:
        return NoRelease(f"{repo} has no published release (or is not a public repository).")
    if status in (403, 429):
        not_before = _rate_limited_until(response, now)
        if not_before is not None:
            return Failed(_rate_limit_message(not_before), not_before)
    detail = _github_message(response)
    return Failed(f"GitHub answered HTTP {status}" + (f": {detail}" if detail else "."))


def _rate_limited_until(response: httpx.Response, now: datetime) -> datetime | None:
    """When a 403/429 is GitHub's rate limit, the time it allows the next request."""
    headers = response.headers
    wait: timedelta | None = None
    if (retry_after := headers.get("retry-after", "")).strip().isdigit():
        wait = timedelta(seconds=int(retry_after))
    elif headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            wait = datetime.fromtimestamp(int(reset), UTC) - now
        else:
            wait = timedelta(minutes=1)
    elif response.status_code == 429:
        wait = timedelta(minutes=1)  # GitHub: "otherwise, wait for at least one minute"
    if wait is None:
        return None
    return now + min(max(wait, timedelta(0)), _MAX_BACKOFF)


def _rate_limit_message(not_before: datetime) -> str:
    return (
        "GitHub's API rate limit was reached; the next check can ask again after "
        f"{not_before.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC."
    )


def _github_message(response: httpx.Response) -> str:
    """GitHub's own `message` of an error answer, short (it never holds a secret of ours)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""
