"""`python -m services.tts`: serve the tts app with uvicorn."""

from __future__ import annotations

import logging

from services.tts.app import create_app
from services.tts.settings import TTSSettings
from shared.logging import setup_logging
from shared.serve import serve

log = logging.getLogger("aion.tts")


def main() -> None:
    """Read settings once, then serve until SIGINT/SIGTERM (uvicorn handles both)."""
    settings = TTSSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json, settings.secret_values())
    log.info("tts listening on %s:%d", settings.aion_tts_host, settings.aion_tts_port)
    serve(create_app(settings), settings.aion_tts_host, settings.aion_tts_port)


if __name__ == "__main__":
    main()
