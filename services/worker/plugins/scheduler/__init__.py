"""Scheduler tools: reminders, once (at a time, or in N minutes) or repeating (cron), kept in
PostgreSQL; the worker's reminder job delivers each as a turn on the channel it was set on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator

from services.worker.plugins.scheduler.schedule import (
    ScheduleError,
    check_cron,
    in_minutes,
    next_cron_run,
    parse_at,
)
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry
from shared.db import reminders as reminders_repo
from shared.db.reminders import Reminder

MAX_ACTIVE = 500
LIST_LIMIT = 100


class AddArguments(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="what to remind the owner of")
    at: str | None = Field(
        default=None,
        description="once, at this ISO 8601 date and time (e.g. 2025-03-01T09:30); "
        "without an offset it is the owner's local time",
    )
    in_minutes: int | None = Field(
        default=None, ge=1, le=525_600, description="once, this many minutes from now"
    )
    cron: str | None = Field(
        default=None,
        max_length=200,
        description="repeating: a 5-field cron expression (minute hour day month weekday) "
        "in the owner's local time, e.g. '0 9 * * 1-5' for 9:00 on weekdays",
    )

    @model_validator(mode="after")
    def _exactly_one_time(self) -> AddArguments:
        given = [v for v in (self.at, self.in_minutes, self.cron) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of at, in_minutes or cron")
        return self


class IdArguments(BaseModel):
    id: int = Field(ge=1, description="the reminder's id, as reminder_list shows it")


class NoArguments(BaseModel):
    pass


def _shown(reminder: Reminder, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "text": reminder.text,
        "next": reminder.next_run_at.astimezone(zone).isoformat(timespec="minutes"),
        "repeats": reminder.cron,
        "channel": reminder.channel,
    }


async def reminder_add(ctx: ToolContext, args: AddArguments) -> dict[str, Any]:
    zone = ZoneInfo(ctx.owner_settings.timezone)
    now = datetime.now(UTC)
    cron: str | None = None
    try:
        if args.cron is not None:
            cron = check_cron(args.cron)
            due = next_cron_run(cron, now, zone)
        elif args.at is not None:
            due = parse_at(args.at, zone)
            if due <= now:
                raise ScheduleError(f"{args.at} ({ctx.owner_settings.timezone}) has already passed")
        else:
            assert args.in_minutes is not None
            due = in_minutes(args.in_minutes, now)
    except ScheduleError as exc:
        raise ToolError(str(exc)) from exc
    async with ctx.app.pool.connection() as conn:
        if await reminders_repo.count_active(conn) >= MAX_ACTIVE:
            raise ToolError(f"there are already {MAX_ACTIVE} active reminders")
        reminder = await reminders_repo.add(
            conn, channel=ctx.channel, text=args.text.strip(), cron=cron, next_run_at=due
        )
    return _shown(reminder, zone) | {"timezone": ctx.owner_settings.timezone}


async def reminder_list(ctx: ToolContext, args: NoArguments) -> dict[str, Any]:
    async with ctx.app.pool.connection() as conn:
        reminders = await reminders_repo.list_active(conn, LIST_LIMIT)
    zone = ZoneInfo(ctx.owner_settings.timezone)
    return {
        "timezone": ctx.owner_settings.timezone,
        "reminders": [_shown(r, zone) for r in reminders],
    }


async def reminder_cancel(ctx: ToolContext, args: IdArguments) -> dict[str, Any]:
    async with ctx.app.pool.connection() as conn:
        reminder = await reminders_repo.cancel(conn, args.id)
    if reminder is None:
        raise ToolError(f"there is no active reminder {args.id}")
    return {"cancelled": reminder.id, "text": reminder.text}


def register(registry: ToolRegistry) -> None:
    registry.add(
        "reminder_add",
        "Set a reminder for the owner: once (at a time, or in N minutes) or repeating (cron). "
        "When it is due, you get 'Reminder: <text>' on this channel and tell the owner.",
        AddArguments,
        reminder_add,
        timeout=10,
        # Its text comes back as a turn of its own when due: an instruction that runs later.
        sends_or_persists=True,
    )
    registry.add(
        "reminder_list",
        "The active reminders, soonest first.",
        NoArguments,
        reminder_list,
        timeout=10,  # the owner's own reminders
    )
    registry.add(
        "reminder_cancel",
        "Cancel a reminder.",
        IdArguments,
        reminder_cancel,
        timeout=10,
        sends_or_persists=True,  # changes what AION keeps: an owner's reminder is gone
    )
