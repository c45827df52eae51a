"""The reminder job: every few seconds (arq cron, on every worker) deliver what is due.

Each due reminder becomes a normal chat turn ("Reminder: <text>") on the channel it was set
on, queued exactly as the api queues one. Rows are locked with SKIP LOCKED for the whole
delivery, so workers running the job at the same moment share the work and never deliver one
twice; the turn id is derived from the reminder and its due time, so a delivery whose commit
was lost is recognised (and not queued again) when the row comes up once more.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from arq.cron import CronJob, cron

from services.worker import notify
from services.worker.context import WorkerContext
from services.worker.plugins.scheduler.schedule import ScheduleError, next_cron_run
from services.worker.settings import WorkerSettings
from shared.db import reminders as reminders_repo
from shared.db.reminders import Reminder
from shared.jobs import TurnJob
from shared.telegram import BackgroundTurn, announce_background_turn

log = logging.getLogger("aion.worker.reminders")

PLUGIN = "scheduler"
DELIVER_REMINDERS = "deliver_reminders"  # the cron job's name (its results in Redis carry it)
BATCH = 50  # per run; the rest is taken by the next run, or by another worker


def reminder_cron(settings: WorkerSettings) -> CronJob:
    return cron(
        deliver_due_reminders,
        name=DELIVER_REMINDERS,
        second=set(range(0, 60, settings.aion_reminder_check_seconds)),
        # Every worker runs it: the row locks, not arq, keep deliveries single.
        unique=False,
        timeout=60,
        max_tries=1,
        # What each run delivered stays readable for a minute (arq's result): how a run that
        # found nothing due, or the plugin off, can be told from one that never ran.
        keep_result=60,
    )


def delivery_turn_id(reminder: Reminder) -> str:
    """The same id for the same reminder and due time, whoever delivers it."""
    key = f"reminder:{reminder.id}:{reminder.next_run_at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


async def deliver_due_reminders(ctx: dict[str, Any]) -> int:
    """arq cron entry point; returns how many reminders this run delivered."""
    app: WorkerContext = ctx["aion"]
    if not app.plugins.is_enabled(PLUGIN):  # the owner turned reminders off
        return 0
    zone = ZoneInfo((await app.owner_config.get()).owner_settings.timezone)
    async with app.pool.connection() as conn, conn.transaction():
        due = await reminders_repo.lock_due(conn, BATCH)
        for reminder in due:
            turn_id = delivery_turn_id(reminder)
            await _queue_turn(app, reminder, turn_id)
            await reminders_repo.mark_run(
                conn, reminder.id, turn_id=turn_id, next_run_at=_next_run(reminder, zone)
            )
    for reminder in due:
        log.info("reminder %s delivered", reminder.id, extra={"channel": reminder.channel})
        await notify.reminder_fired(app, reminder, delivery_turn_id(reminder))
    return len(due)


def _next_run(reminder: Reminder, zone: ZoneInfo) -> datetime | None:
    """When a repeating reminder is due next (missed runs are not made up); None: done."""
    if reminder.cron is None:
        return None
    try:
        return next_cron_run(reminder.cron, datetime.now(UTC), zone)
    except ScheduleError:
        log.warning("reminder %s has no next run; it ends", reminder.id)
        return None


async def _queue_turn(app: WorkerContext, reminder: Reminder, turn_id: str) -> None:
    """Queue the reminder's turn the way the api queues a chat message."""
    if await app.bus.exists(turn_id):
        return  # queued by an earlier run whose commit did not happen
    job = TurnJob(
        turn_id=turn_id,
        channel=reminder.channel,
        message=f"Reminder: {reminder.text}",
        enqueued_at_ms=int(time.time() * 1000),
    )
    if not await app.bus.submit(job):
        return  # arq holds a job of that id already, with its one place in the channel
    # Nobody waits for this turn's stream: a channel service (Telegram) delivers the answer.
    await announce_background_turn(
        app.redis, BackgroundTurn(turn_id=turn_id, channel=reminder.channel)
    )
