"""Fixtures of the console tests: an api replica with a public https URL and a console folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import Service, Stack

PUBLIC_URL = "https://aion.example.com"


@pytest.fixture(scope="package")
def public_api(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, Path]]:
    """An api replica behind a public https URL, serving a console folder of the test's own."""
    console = tmp_path_factory.mktemp("console")
    (console / "assets").mkdir()
    (console / "index.html").write_text("<!doctype html><title>AION</title>")
    (console / "assets" / "app-1234.js").write_text("console.log(1)")
    api = stack.start_extra_api(
        {"AION_PUBLIC_URL": PUBLIC_URL, "AION_CONSOLE_DIR": str(console), "AION_SESSION_DAYS": "2"}
    )
    yield api, console
    api.stop()
