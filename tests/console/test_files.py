"""The console's files at / on the api's port: public, strict CSP, index.html for client routes,
nothing of the api opened by it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.api.console import CSP
from tests.helpers import fresh_address
from tests.stack import Service, Stack


@pytest.fixture
async def http(public_api: tuple[Service, Path]) -> httpx.AsyncClient:
    api, _ = public_api
    return httpx.AsyncClient(
        base_url=api.url, headers={"X-Forwarded-For": fresh_address()}, timeout=10.0
    )


async def test_pages_are_public_with_a_strict_csp(http: httpx.AsyncClient) -> None:
    for path in ("/", "/chat/web", "/history"):
        page = await http.get(path)
        assert page.status_code == 200, path
        assert page.text.startswith("<!doctype html>")
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CSP
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert CSP.startswith("default-src 'self';")


async def test_hashed_assets_are_cached_and_a_missing_one_is_404(
    http: httpx.AsyncClient,
) -> None:
    asset = await http.get("/assets/app-1234.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert "javascript" in asset.headers["content-type"]
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await http.get("/assets/gone-1234.js")).status_code == 404
    traversal = await http.get("/assets/..%2f..%2fetc%2fpasswd")
    assert traversal.status_code == 404 and "root:" not in traversal.text


async def test_the_console_opens_nothing_of_the_api(http: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/api/channels"),
        ("GET", "/api/nothing-here"),
        ("GET", "/metrics"),
        ("POST", "/"),
        ("DELETE", "/chat/web"),
    ):
        response = await http.request(method, path)
        assert response.status_code == 401, (method, path)


async def test_an_unbuilt_console_says_how_to_build_it(stack: Stack, tmp_path: Path) -> None:
    api = stack.start_extra_api({"AION_CONSOLE_DIR": str(tmp_path / "missing")})
    try:
        async with httpx.AsyncClient(base_url=api.url, timeout=10.0) as http:
            response = await http.get("/")
        assert response.status_code == 503
        assert "make console" in response.text
    finally:
        api.stop()
