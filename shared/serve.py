"""Serving an ASGI app the same way in every service (api, tts, telegram health)."""

from __future__ import annotations

from typing import Any

import uvicorn


def serve(app: Any, host: str, port: int, **options: Any) -> None:
    """Run until SIGINT/SIGTERM. Our root logging stays in charge (JSON lines), and no access
    log: health probes every few seconds would drown it, and request lines can carry ids."""
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, **options)
