"""The scheduler plugin: cron and time parsing (pure), the SKIP LOCKED claim under concurrent
claimers (real PostgreSQL), and reminders set by chat and delivered as turns by the workers'
cron job — exactly once with two workers running."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from arq.constants import result_key_prefix
from psycopg.rows import dict_row
from redis.asyncio import Redis

from scripts import localpg
from services.worker.plugins.scheduler.schedule import (
    ScheduleError,
    check_cron,
    next_cron_run,
    parse_at,
)
from services.worker.reminders import DELIVER_REMINDERS
from shared.db import reminders as reminders_repo
from shared.jobs import deserialize_job
from tests.helpers import announce_settings_changed, eventually, history
from tests.plugin_helpers import plugin_switched, run_tool
from tests.stack import Stack, run_migrations

BERLIN = ZoneInfo("Europe/Berlin")


def test_cron_expressions_are_checked() -> None:
    assert check_cron(" 0  9 * *   1-5 ") == "0 9 * * 1-5"
    for bad in ("* * * *", "0 0 9 * * 1", "61 * * * *", "0 25 * * *", "@daily", "0 0 31 2 *"):
        with pytest.raises(ScheduleError):
            check_cron(bad)


def test_cron_runs_in_the_owner_time_zone_across_dst() -> None:
    after = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert next_cron_run("0 9 * * *", after, BERLIN) == datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
    # 02:30 does not exist on the night clocks go forward: it runs at 03:00 (as cron does)
    spring = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    assert next_cron_run("30 2 * * *", spring, BERLIN) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    # and it exists twice when they go back: it runs once, at the first
    autumn = datetime(2025, 10, 25, 12, 0, tzinfo=UTC)
    assert next_cron_run("30 2 * * *", autumn, BERLIN) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_times_without_an_offset_are_the_owner_local_time() -> None:
    assert parse_at("2030-07-01T09:30", BERLIN) == datetime(2030, 7, 1, 7, 30, tzinfo=UTC)
    assert parse_at("2030-07-01 09:30:00+02:00", ZoneInfo("UTC")) == datetime(
        2030, 7, 1, 7, 30, tzinfo=UTC
    )
    assert parse_at("2030-07-01T09:30Z", BERLIN) == datetime(2030, 7, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(ScheduleError):
        parse_at("tomorrow at nine", BERLIN)


@pytest.fixture(scope="module")
def claim_database(database_url: str) -> str:
    """A database of its own: the stack's live workers would claim due reminders too."""
    admin = localpg.with_database(database_url, "postgres")
    database = localpg.ensure_database(admin, f"aion_claims_{uuid.uuid4().hex[:8]}")
    run_migrations(database)
    return database


async def test_concurrent_claimers_never_take_one_reminder_twice(claim_database: str) -> None:
    database_url = claim_database
    channel = f"claim-{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        past = datetime.now(UTC) - timedelta(seconds=5)
        ids = {
            (
                await reminders_repo.add(
                    conn, channel=channel, text=f"r{n}", cron=None, next_run_at=past
                )
            ).id
            for n in range(40)
        }

    async def claimer() -> list[int]:
        taken: list[int] = []
        async with await psycopg.AsyncConnection.connect(
            database_url, autocommit=True, row_factory=dict_row
        ) as conn:
            while True:
                async with conn.transaction():
                    due = [r for r in await reminders_repo.lock_due(conn, 3) if r.id in ids]
                    await asyncio.sleep(0.01)  # hold the locks while others look
                    for reminder in due:
                        await reminders_repo.mark_run(
                            conn, reminder.id, turn_id="t", next_run_at=None
                        )
                if not due:
                    return taken
                taken += [r.id for r in due]

    claimed = await asyncio.gather(*(claimer() for _ in range(6)))
    everything = [i for batch in claimed for i in batch]
    assert sorted(everything) == sorted(ids)  # each one exactly once
    assert sum(1 for batch in claimed if batch) > 1  # and they really did share the work


# --- end to end ------------------------------------------------------------------------------


@pytest.fixture
async def fresh_settings(db: Any, redis_url: str) -> AsyncIterator[None]:
    yield
    await db.execute("DELETE FROM settings")
    await announce_settings_changed(redis_url)


async def _reminder_row(db: Any, reminder_id: int) -> dict[str, Any]:
    cur = await db.execute(
        "SELECT status, runs, next_run_at, last_turn_id, cron FROM reminders WHERE id = %s",
        (reminder_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(zip(("status", "runs", "next_run_at", "last_turn_id", "cron"), row, strict=True))


async def _wait_for_history(
    client: httpx.AsyncClient, channel: str, count: int, timeout: float = 15
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        messages = await history(client, channel)
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        await asyncio.sleep(0.2)


async def test_set_list_and_cancel_in_the_owner_time_zone(
    client: httpx.AsyncClient, channel: str, db: Any, fresh_settings: None
) -> None:
    response = await client.post("/api/config/settings", json={"timezone": "Asia/Tokyo"})
    assert response.status_code == 200
    added = await run_tool(client, channel, "reminder_add", text="dentist", at="2031-01-10T09:00")
    assert added["ok"] is True, added
    assert added["result"]["next"] == "2031-01-10T09:00+09:00"
    assert added["result"]["timezone"] == "Asia/Tokyo" and added["result"]["channel"] == channel
    row = await _reminder_row(db, added["result"]["id"])
    assert row["next_run_at"] == datetime(2031, 1, 10, 0, 0, tzinfo=UTC)

    weekly = await run_tool(client, channel, "reminder_add", text="report", cron="0 8 * * MON")
    assert weekly["ok"] is True and weekly["result"]["repeats"] == "0 8 * * MON"
    assert weekly["result"]["next"].endswith("T08:00+09:00")

    listed = await run_tool(client, channel, "reminder_list")
    mine = [r for r in listed["result"]["reminders"] if r["channel"] == channel]
    assert [r["text"] for r in mine] == ["report", "dentist"]  # soonest first

    cancelled = await run_tool(client, channel, "reminder_cancel", id=added["result"]["id"])
    assert (
        cancelled["ok"] is True
        and (await _reminder_row(db, added["result"]["id"]))["status"] == "cancelled"
    )
    again = await run_tool(client, channel, "reminder_cancel", id=added["result"]["id"])
    assert again["ok"] is False and "no active reminder" in again["result"]
    await run_tool(client, channel, "reminder_cancel", id=weekly["result"]["id"])

    for bad in (
        {"text": "x", "at": "2001-01-01T00:00"},
        {"text": "x", "cron": "every day"},
        {"text": "x"},
        {"text": "x", "in_minutes": 5, "cron": "* * * * *"},
    ):
        refused = await run_tool(client, channel, "reminder_add", **bad)
        assert refused["ok"] is False, (bad, refused)


@pytest.fixture
async def queue(redis_url: str) -> AsyncIterator[Redis]:
    """The stack's Redis, where the workers' job results are kept (60 s)."""
    async with Redis.from_url(redis_url) as redis:
        yield redis


async def _reminder_runs_since(queue: Redis, since: float) -> list[int]:
    """What each run of the workers' reminder job that began at or after `since` (epoch
    seconds) returned: how many reminders it delivered. Only runs that ended have a result."""
    delivered = []
    async for key in queue.scan_iter(match=f"{result_key_prefix}*", count=1000):
        raw = await queue.get(key)
        if raw is None:
            continue  # expired since the scan saw it
        result = deserialize_job(raw)
        if result.get("f") == DELIVER_REMINDERS and result["st"] >= since * 1000:
            delivered.append(int(result["r"]))
    return delivered


async def test_a_due_reminder_is_delivered_once_with_two_workers(
    client: httpx.AsyncClient, stack: Stack, channel: str, db: Any, queue: Redis
) -> None:
    while len(stack.live_workers()) < 2:
        stack.start_worker()
    added = await run_tool(client, channel, "reminder_add", text="stretch your legs", in_minutes=9)
    assert added["ok"] is True, added
    reminder_id = added["result"]["id"]
    await db.execute("UPDATE reminders SET next_run_at = now() WHERE id = %s", (reminder_id,))
    messages = await _wait_for_history(client, channel, 4)
    assert [m["content"] for m in messages[2:]] == [
        "Reminder: stretch your legs",
        "You said: Reminder: stretch your legs",
    ]
    assert (await _reminder_row(db, reminder_id))["runs"] == 1  # the delivery is committed
    delivered = time.time()

    # Each worker queues a run every second: once two that began after the delivery have
    # ended, a second delivery (a row not locked, a one-off left due) would have been made.
    async def two_runs_ended() -> bool:
        return len(await _reminder_runs_since(queue, delivered)) >= 2

    await eventually(two_runs_ended, "two more runs of the reminder job", timeout=20)
    assert len(await history(client, channel)) == 4
    row = await _reminder_row(db, reminder_id)
    assert row["status"] == "done" and row["runs"] == 1 and row["last_turn_id"]


async def test_a_repeating_reminder_moves_on_and_a_disabled_scheduler_waits(
    client: httpx.AsyncClient, channel: str, db: Any, queue: Redis
) -> None:
    added = await run_tool(client, channel, "reminder_add", text="new year", cron="0 0 1 1 *")
    reminder_id = added["result"]["id"]
    async with plugin_switched(client, db, "scheduler", enabled=False):
        await db.execute("UPDATE reminders SET next_run_at = now() WHERE id = %s", (reminder_id,))
        due = time.time()

        # A run that began once the reminder was due has ended: it found the plugin off.
        async def a_run_ended() -> bool:
            return bool(await _reminder_runs_since(queue, due))

        await eventually(a_run_ended, "a run of the reminder job", timeout=20)
        assert set(await _reminder_runs_since(queue, due)) == {0}  # none delivered anything
        assert len(await history(client, channel)) == 2  # only the turn that set it
        assert (await _reminder_row(db, reminder_id))["runs"] == 0
    messages = await _wait_for_history(client, channel, 4)
    assert messages[2]["content"] == "Reminder: new year"
    row = await _reminder_row(db, reminder_id)
    assert row["status"] == "active" and row["runs"] == 1
    next_year = datetime.now(UTC).year + 1
    assert row["next_run_at"] == datetime(next_year, 1, 1, tzinfo=UTC)
    await run_tool(client, channel, "reminder_cancel", id=reminder_id)
