"""`python -m services.telegram`: start the health server (the bot itself is a later issue)."""

from __future__ import annotations

import logging

from services.telegram.health import PollerState, create_health_app
from services.telegram.settings import TelegramSettings
from shared.logging import setup_logging
from shared.serve import serve

log = logging.getLogger("aion.telegram")


def main() -> None:
    """Read settings once, say whether a bot token is configured, serve health until stopped."""
    settings = TelegramSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json)
    # Only whether it is set: the token itself must never reach a log.
    log.info(
        "telegram starting: TELEGRAM_BOT_TOKEN is %s; api at %s",
        "set" if settings.has_bot_token else "not set",
        settings.aion_api_url,
    )
    serve(
        create_health_app(PollerState()),
        settings.aion_telegram_health_host,
        settings.aion_telegram_health_port,
    )


if __name__ == "__main__":
    main()
