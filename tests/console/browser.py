"""Playwright driving Debian's chromium against the real stack (never a downloaded browser).

The console must be built (`make console`); a fixture builds it when npm is there. Without
npm or chromium the browser tests skip and say why, unless AION_REQUIRE_BROWSER_TESTS=1 (CI),
which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stack import ROOT

CHROMIUM = Path(os.environ.get("AION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONSOLE_INDEX = ROOT / "console" / "dist" / "index.html"


def unavailable(reason: str) -> None:
    """Skip locally; fail where the browser tests must run."""
    if os.environ.get("AION_REQUIRE_BROWSER_TESTS") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


def ensure_console_built() -> None:
    if CONSOLE_INDEX.is_file():
        return
    if shutil.which("npm") is None:
        unavailable(
            "the console is not built and npm is missing (install Node.js 20, `make console`)"
        )
    subprocess.run(["make", "console"], cwd=ROOT, check=True, capture_output=True)


def ensure_chromium() -> None:
    if not CHROMIUM.is_file():
        unavailable(f"no chromium at {CHROMIUM} (`apt-get install -y chromium`)")
