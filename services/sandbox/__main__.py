"""`python -m services.sandbox`: serve until SIGTERM (the `sandbox` image's command)."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from typing import Any

from services.sandbox.app import create_app
from services.sandbox.settings import SandboxSettings
from shared.hardening import become_subreaper, make_non_dumpable
from shared.logging import setup_logging
from shared.sandbox import MAX_LINE_BYTES
from shared.serve import serve


def main() -> None:
    settings = SandboxSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json)
    # At DEBUG the WebSocket library traces the handshake's headers (the workers' credential,
    # which this service cannot redact: it holds only the digest) and every frame (what the
    # worker and its MCP servers say) under uvicorn.error: never below INFO here.
    quiet = logging.getLogger("uvicorn.error")
    quiet.setLevel(max(logging.INFO, quiet.getEffectiveLevel()))
    if os.geteuid() == 0:
        sys.exit("the sandbox runs commands as its own user and refuses to run as root")
    if settings.aion_sandbox_token_sha256 is None:
        sys.exit(
            "AION_SANDBOX_TOKEN_SHA256 is not set: the SHA-256 (hex) of the workers' "
            "AION_SANDBOX_TOKEN (compose generates both at first start)"
        )
    # Commands run as this uid: they may not read this process through /proc, and what they
    # leave running comes back to it to be killed. Files they make stay group-writable for
    # the workers' files tools (the workspace is shared through the group).
    make_non_dumpable()
    become_subreaper()
    os.umask(0o002)
    app = create_app(settings)
    serve(app, settings.aion_sandbox_host, settings.aion_sandbox_port, **_websocket_options())


def _websocket_options() -> dict[str, Any]:
    """uvicorn's WebSocket implementation for /v1/program; without the `websockets` package
    commands still run, and the workers are told stdio MCP servers cannot."""
    if importlib.util.find_spec("websockets") is None:
        logging.getLogger("aion.sandbox").warning(
            "the `websockets` package is not installed: stdio MCP servers cannot run here"
        )
        return {"ws": "none"}
    return {"ws": "websockets-sansio", "ws_max_size": MAX_LINE_BYTES}


if __name__ == "__main__":
    main()
