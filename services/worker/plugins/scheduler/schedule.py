"""When reminders are due: ISO times, "in N minutes" and 5-field cron expressions, in the
owner's time zone (cron evaluated by cronsim, which follows Debian cron across DST changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError


class ScheduleError(ValueError):
    """A time or cron expression that cannot be used; the message says why."""


def check_cron(expression: str) -> str:
    """The expression, normalised, if it is a valid 5-field cron expression."""
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"{expression!r}: a cron expression has 5 fields (minute hour day month weekday)"
        )
    normalised = " ".join(fields)
    try:
        CronSim(normalised, datetime.now(UTC))
    except CronSimError as exc:
        raise ScheduleError(f"{expression!r}: {exc}") from exc
    return normalised


def next_cron_run(expression: str, after: datetime, zone: ZoneInfo) -> datetime:
    """The first time after `after` that the expression matches in `zone` (returned in UTC)."""
    try:
        upcoming = next(iter(CronSim(expression, after.astimezone(zone))))
    except (CronSimError, StopIteration) as exc:
        raise ScheduleError(f"{expression!r} never matches again") from exc
    return upcoming.astimezone(UTC)


def parse_at(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date and time; without an offset it is local time in `zone`."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ScheduleError(
            f"{text!r} is not an ISO 8601 date and time (like 2025-03-01T09:30)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def in_minutes(minutes: int, now: datetime) -> datetime:
    return now + timedelta(minutes=minutes)
