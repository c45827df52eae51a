"""`python -m services.sandbox`: serve until SIGTERM (the `sandbox` image's command)."""

from __future__ import annotations

import os
import sys

from services.sandbox.app import create_app
from services.sandbox.settings import SandboxSettings
from shared.hardening import become_subreaper, make_non_dumpable
from shared.logging import setup_logging
from shared.serve import serve


def main() -> None:
    settings = SandboxSettings()
    setup_logging(settings.aion_log_level, settings.aion_log_json)
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
    serve(create_app(settings), settings.aion_sandbox_host, settings.aion_sandbox_port)


if __name__ == "__main__":
    main()
