"""Commands: /start and /help, /reset, /model, /status (and the menu Telegram shows)."""

from __future__ import annotations

import html

from telegram import BotCommand, Update

from services.telegram.api_client import ApiError
from services.telegram.handlers.common import (
    Context,
    admitted,
    chat_out,
    runtime,
    send_html,
    submit,
)
from services.telegram.present import notify
from shared.telegram import chat_channel

COMMANDS = [
    BotCommand("start", "Say hello and show what AION can do here"),
    BotCommand("reset", "Start this chat's history afresh"),
    BotCommand("model", "Show the model, or switch: /model <name>"),
    BotCommand("status", "How AION is doing"),
    BotCommand("help", "How to use AION in Telegram"),
]
HELP = (
    "<b>AION</b>, your own assistant.\n\n"
    "Write to me as you would to a person. You can also send voice notes (I answer by voice), "
    "photos, and documents (PDF, Word, Excel, PowerPoint, OpenDocument, HTML, Markdown, text, "
    "CSV, JSON). When I want to do something risky I ask first: press "
    "Approve or Deny.\n\n"
    "/reset starts this chat afresh · /model shows or switches the model · /status"
)


async def help_command(update: Update, context: Context) -> None:
    """/start, /help, and any command the bot does not know."""
    if not await admitted(update, context):
        return
    out = chat_out(update, context)
    submit(context, out, lambda: send_html(out, HELP))


async def reset(update: Update, context: Context) -> None:
    if not await admitted(update, context):
        return
    out, api = chat_out(update, context), runtime(context).api

    async def work() -> None:
        await api.reset(chat_channel(out.chat_id))
        await notify(out, "Done: this chat starts afresh.")

    submit(context, out, work)


async def model(update: Update, context: Context) -> None:
    if not await admitted(update, context):
        return
    out, api = chat_out(update, context), runtime(context).api
    wanted = " ".join(context.args or []).strip()

    async def work() -> None:
        if not wanted:
            current = (await api.config()).get("model")
            await send_html(
                out,
                f"Model: <code>{html.escape(str(current))}</code>\nSwitch: /model &lt;name&gt;",
            )
            return
        try:
            answer = await api.set_model(wanted)
        except ApiError as exc:
            await notify(out, f"Could not switch: {exc.detail}")
            return
        await send_html(
            out,
            f"Model set to <code>{html.escape(str(answer.get('model')))}</code> "
            f"({html.escape(str(answer.get('provider')))}).",
        )

    submit(context, out, work)


async def status(update: Update, context: Context) -> None:
    if not await admitted(update, context):
        return
    out, api = chat_out(update, context), runtime(context).api

    async def work() -> None:
        s = await api.status()
        e = {k: html.escape(str(v)) for k, v in s.items()}
        workers = html.escape(str(s.get("services", {}).get("workers")))
        hours = int(s.get("uptime", 0)) // 3600
        await send_html(
            out,
            f"<b>AION {e.get('version')}</b>: {e.get('status')}\n"
            f"Model: <code>{e.get('model')}</code>\n"
            f"Memories: {e.get('memory_entries')} · workers: {workers} · up {hours} h",
        )

    submit(context, out, work)
