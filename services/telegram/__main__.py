"""`python -m services.telegram`: the Telegram bot with its health (and webhook) server."""

from __future__ import annotations

import logging

from services.telegram.app import create_app
from services.telegram.settings import TelegramSettings
from shared.logging import setup_logging
from shared.serve import serve

log = logging.getLogger("aion.telegram")


def main() -> None:
    settings = TelegramSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json, settings.secret_values())
    log.info(
        "telegram starting: api at %s, %s",
        settings.aion_api_url,
        "webhook mode" if settings.telegram_webhook_url else "long polling",
    )
    serve(
        create_app(settings), settings.aion_telegram_health_host, settings.aion_telegram_health_port
    )


if __name__ == "__main__":
    main()
