"""`python -m services.tts`: serve the tts app with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from services.tts.app import create_app
from services.tts.settings import TTSSettings
from shared.logging import setup_logging

log = logging.getLogger("aion.tts")


def main() -> None:
    """Read settings once, then serve until SIGINT/SIGTERM (uvicorn handles both)."""
    settings = TTSSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json)
    log.info("tts listening on %s:%d", settings.aion_tts_host, settings.aion_tts_port)
    uvicorn.run(
        create_app(),
        host=settings.aion_tts_host,
        port=settings.aion_tts_port,
        log_config=None,  # keep the root logging set up above
        access_log=False,  # health probes every few seconds would drown the log
    )


if __name__ == "__main__":
    main()
