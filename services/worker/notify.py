"""The worker's live notices (shared/notices.py): what it did that the console did not ask for."""

from __future__ import annotations

from services.worker.context import WorkerContext
from shared import notices
from shared.db.reminders import Reminder
from shared.events import DoneEvent, Event
from shared.jobs import TurnJob
from shared.mcp import McpServerStatus
from shared.notices import (
    McpServerFailedNotice,
    Outcome,
    PluginFailedNotice,
    ReminderNotice,
    TurnFinishedNotice,
    UpdateAvailableNotice,
)
from shared.plugin_catalog import PluginInfo

# A broken plugin is reported once per this many seconds, however many workers load it.
PLUGIN_FAILED_EVERY_SECONDS = 600


async def reminder_fired(app: WorkerContext, reminder: Reminder, turn_id: str) -> None:
    notice = ReminderNotice(
        reminder_id=reminder.id, channel=reminder.channel, text=reminder.text, turn_id=turn_id
    )
    # The turn id names the reminder and its due time: a delivery retried sends no second one.
    await notices.publish(
        app.redis, notice, once=notices.once_key("reminder", turn_id), once_seconds=3600
    )


async def turn_finished(app: WorkerContext, turn: TurnJob, ended: Event, text: str) -> None:
    """A turn on another channel than the console's ended (a stateless client's is its own)."""
    if turn.channel == notices.CONSOLE_CHANNEL or turn.conversation is not None:
        return
    outcome: Outcome = "error"
    if isinstance(ended, DoneEvent):
        outcome = "done"
        if ended.cancelled:
            outcome = "cancelled"
        elif ended.approval_pending:
            outcome = "approval_pending"
    notice = TurnFinishedNotice(
        channel=turn.channel,
        turn_id=turn.turn_id,
        outcome=outcome,
        preview=notices.preview(text),
    )
    await notices.publish(app.redis, notice)


async def plugins_failed(app: WorkerContext, plugins: list[PluginInfo]) -> None:
    """Every enabled plugin that could not be loaded (each error once, across workers)."""
    for plugin in plugins:
        if plugin.error is None or not plugin.enabled:
            continue
        notice = PluginFailedNotice(plugin=plugin.name, error=plugin.error)
        await notices.publish(
            app.redis,
            notice,
            once=notices.once_key("plugin", plugin.name, plugin.error),
            once_seconds=PLUGIN_FAILED_EVERY_SECONDS,
        )


async def mcp_server_failed(app: WorkerContext, status: McpServerStatus) -> None:
    """An enabled MCP server is in error (each error once across workers, like plugins)."""
    if status.status != "error" or not status.error:
        return
    await notices.publish(
        app.redis,
        McpServerFailedNotice(server=status.name, error=status.error),
        once=notices.once_key("mcp", status.name, status.error),
        once_seconds=PLUGIN_FAILED_EVERY_SECONDS,
    )


async def update_available(
    app: WorkerContext, current: str, latest: str, release_url: str | None
) -> None:
    """A newer release (each one once: the daily check and every worker's start find it again)."""
    notice = UpdateAvailableNotice(
        current_version=current, latest_version=latest, release_url=release_url
    )
    await notices.publish(
        app.redis,
        notice,
        once=notices.once_key("update", current, latest),
        once_seconds=notices.KEEP_SECONDS,
    )
