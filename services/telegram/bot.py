"""The bot: a python-telegram-bot Application with AION's handlers, one module per kind of
update (services/telegram/handlers/), sharing the `Runtime` through `bot_data`."""

from __future__ import annotations

import logging

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from services.telegram.handlers import buttons, commands, messages
from services.telegram.handlers.common import RUNTIME, Context
from services.telegram.runtime import Runtime

__all__ = ["Runtime", "build_application", "register_commands"]

log = logging.getLogger("aion.telegram.bot")


def build_application(runtime: Runtime, token: str, base_url: str | None) -> Application:  # type: ignore[type-arg]
    builder = Application.builder().token(token).concurrent_updates(False)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    app = builder.build()
    app.bot_data[RUNTIME] = runtime
    install(app)
    return app


def install(app: Application) -> None:  # type: ignore[type-arg]
    """First match wins, so the order is the routing table."""
    for name in ("start", "help"):
        app.add_handler(CommandHandler(name, commands.help_command))
    app.add_handler(CommandHandler("reset", commands.reset))
    app.add_handler(CommandHandler("model", commands.model))
    app.add_handler(CommandHandler("status", commands.status))
    app.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, messages.voice))
    app.add_handler(MessageHandler(filters.PHOTO, messages.photo))
    app.add_handler(MessageHandler(filters.Document.ALL, messages.document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, messages.text))
    app.add_handler(MessageHandler(filters.COMMAND, commands.help_command))
    app.add_handler(MessageHandler(filters.ALL, messages.unsupported))
    app.add_handler(CallbackQueryHandler(buttons.approval))
    app.add_error_handler(_error)


async def _error(update: object, context: Context) -> None:
    log.error("a Telegram update failed: %s", context.error, exc_info=context.error)


async def register_commands(app: Application) -> None:  # type: ignore[type-arg]
    await app.bot.set_my_commands(commands.COMMANDS)
