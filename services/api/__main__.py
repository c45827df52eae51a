"""`python -m services.api`: serve the gateway with uvicorn on AION_PORT."""

from __future__ import annotations

import uvicorn

from services.api.main import create_app
from services.api.settings import ApiSettings
from shared.logging import setup_logging


def main() -> None:
    settings = ApiSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.aion_host,
        port=settings.aion_port,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
