"""Service credentials open what their service calls, and nothing else: the telegram service's
the routes the bot calls, a metrics scraper's GET /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.api.auth import TELEGRAM_ROUTES
from tests.conftest import METRICS_TOKEN, TELEGRAM_SERVICE_TOKEN
from tests.stack import Stack


@pytest.fixture
async def as_telegram(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack.api_url,
        headers={"Authorization": f"Bearer {TELEGRAM_SERVICE_TOKEN}"},
        timeout=10.0,
    ) as http:
        yield http


async def test_the_bot_routes_open(as_telegram: httpx.AsyncClient) -> None:
    assert (await as_telegram.get("/api/telegram/bot")).status_code == 200
    assert (await as_telegram.get("/api/config")).status_code == 200
    assert (await as_telegram.post("/api/reset", json={"channel": "telegram:1"})).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/keys"),
        ("POST", "/api/keys"),
        ("POST", "/api/plugins/reload"),
        ("POST", "/api/config/settings"),
        ("GET", "/api/telegram/config"),
        ("POST", "/api/telegram/config"),
        ("GET", "/api/memory"),
        ("GET", "/api/history"),
        ("DELETE", "/api/memory"),
        ("GET", "/metrics"),
        # it may upload a document, never read or delete the owner's files
        ("GET", "/api/files"),
        ("GET", "/api/files/abcdefgh1234/content"),
        ("DELETE", "/api/files/abcdefgh1234"),
    ],
)
async def test_everything_else_is_forbidden(
    as_telegram: httpx.AsyncClient, client: httpx.AsyncClient, method: str, path: str
) -> None:
    answer = await as_telegram.request(method, path, json={})
    assert answer.status_code == 403, answer.text
    assert "telegram service's credential" in answer.json()["detail"]
    # The owner's token is not refused there (whatever the route then says of the body).
    assert (await client.request(method, path, json={})).status_code not in (401, 403)


def test_every_allowed_route_exists(stack: Stack) -> None:
    """A renamed route must not silently lock the bot out (or leave a stale entry behind)."""
    from services.api.main import create_app

    app = create_app()
    routes = {
        (method, route.path)
        for included in app.router.routes  # FastAPI keeps each included router whole
        for route in getattr(getattr(included, "original_router", None), "routes", [included])
        for method in getattr(route, "methods", None) or ()
    }
    assert routes >= TELEGRAM_ROUTES, TELEGRAM_ROUTES - routes


async def test_a_wrong_token_is_unauthorized(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url) as http:
        answer = await http.get("/api/config", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401


async def test_the_metrics_credential_reads_the_metrics_and_nothing_else(stack: Stack) -> None:
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10.0
    ) as scraper:
        metrics = await scraper.get("/metrics")
        assert metrics.status_code == 200 and "aion_" in metrics.text
        for method, path in [
            ("GET", "/api/config"),
            ("GET", "/api/keys"),
            ("POST", "/api/chat"),
            ("GET", "/api/history"),
            ("GET", "/api/telegram/bot"),
        ]:
            answer = await scraper.request(method, path, json={"message": "hi"})
            assert answer.status_code == 403, (path, answer.text)
            assert "metrics scraper's credential" in answer.json()["detail"]
