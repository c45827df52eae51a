"""`python -m services.api`: serve the gateway with uvicorn on AION_PORT."""

from __future__ import annotations

from functools import partial

from services.api.draining import drain
from services.api.main import create_app
from services.api.settings import ApiSettings
from shared.logging import setup_logging
from shared.serve import serve


def main() -> None:
    settings = ApiSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json, settings.secret_values())
    app = create_app(settings)
    serve(
        app,
        settings.aion_host,
        settings.aion_port,
        drain=partial(drain, app, settings.aion_api_drain_seconds),
        # The app believes X-Forwarded-For from AION_TRUSTED_PROXIES only (create_app);
        # uvicorn's default would believe it from any local peer.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
