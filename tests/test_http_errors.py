"""The one HTTP error layer (shared/http_errors.py): every service's errors in one shape."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from shared.http_errors import Conflict, Dependency, bearer_check, install_error_handlers


class StoreDown(Exception):
    pass


class StoreRefused(Exception):
    pass


class Body(BaseModel):
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    store = Dependency(
        "Store", errors=(StoreDown,), refusals=(StoreRefused,), unstorable=lambda e: "NUL" in str(e)
    )
    install_error_handlers(app, service="demo service", dependencies=(store,))
    digest = hashlib.sha256(b"right-token").hexdigest()

    @app.post("/things", dependencies=[Depends(bearer_check(digest, "the demo's callers"))])
    async def things(body: Body) -> dict[str, int]:
        if body.count == 1:
            raise Conflict("That thing exists already.")
        if body.count == 2:
            raise StoreDown("connection to 10.0.0.7 refused, password=hunter2")
        if body.count == 3:
            raise StoreRefused("invalid byte sequence: NUL")
        if body.count == 4:
            raise StoreRefused("numeric field overflow")
        if body.count == 5:
            raise RuntimeError("secret internals hunter2")
        return {"count": body.count}

    return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://demo", headers={"Authorization": "Bearer right-token"}
    ) as client:
        yield client


async def _post(http: httpx.AsyncClient, body: object) -> tuple[int, dict[str, Any]]:
    response = await http.post("/things", json=body)
    return response.status_code, response.json()


async def test_every_error_has_the_one_shape(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "aion.errors")
    assert await _post(http, {"count": 0}) == (200, {"count": 0})
    assert await _post(http, {"count": 1}) == (
        409,
        {"error": "Conflict", "detail": "That thing exists already."},
    )
    assert await _post(http, {"count": "many"}) == (
        422,
        {
            "error": "ValidationError",
            "detail": "count: Input should be a valid integer, "
            "unable to parse string as an integer",
        },
    )
    assert await _post(http, {"count": 2}) == (
        503,
        {"error": "ServiceUnavailable", "detail": "Store is unavailable; try again shortly."},
    )
    assert "10.0.0.7" in caplog.text  # the reason is in the log, not in the answer
    assert await _post(http, {"count": 3}) == (
        422,
        {
            "error": "ValidationError",
            "detail": "A value holds a character that cannot be stored (NUL, U+0000).",
        },
    )
    status, body = await _post(http, {"count": 4})
    assert (status, body["error"]) == (500, "InternalError")
    assert await _post(http, {"count": 5}) == (
        500,
        {"error": "InternalError", "detail": "Something went wrong in the demo service."},
    )
    missing = await http.get("/nowhere")
    assert (missing.status_code, missing.json()["error"]) == (404, "NotFound")
    wrong_method = await http.get("/things")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "MethodNotAllowed")
    broken = await http.post("/things", content=b"{", headers={"Content-Type": "application/json"})
    assert (broken.status_code, broken.json()["error"]) == (400, "InvalidJSON")


@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", "Basic right-token"])
async def test_internal_credential(http: httpx.AsyncClient, authorization: str) -> None:
    response = await http.post(
        "/things", json={"count": 0}, headers={"Authorization": authorization}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": "Unauthorized",
        "detail": "This service answers only the demo's callers.",
    }
