"""The one probe layer (shared/probes.py): what an orchestrator reads, what the log says."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI

from shared import probes as probes_module
from shared.probes import Probes, add_probes


async def _ok() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("connection refused on 127.0.0.1:6379")


async def _hangs() -> None:
    await asyncio.Event().wait()


def _client(probes: Probes) -> httpx.AsyncClient:
    app = FastAPI()
    add_probes(app, "demo", probes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://demo")


async def test_ready_when_every_check_answers() -> None:
    async with _client(Probes(checks=lambda _: {"Redis": _ok, "PostgreSQL": _ok})) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


async def test_a_failing_check_is_503_and_its_reason_is_logged_not_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "aion.probes")
    async with _client(Probes(checks=lambda _: {"Redis": _refused, "PostgreSQL": _ok})) as http:
        ready = await http.get("/readyz")
        alive = await http.get("/healthz")  # a store outage never asks for a restart
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
    assert "6379" not in ready.text
    assert alive.status_code == 200
    assert any(
        "demo not ready: Redis: ConnectionRefusedError" in r.message and "6379" in r.message
        for r in caplog.records
    ), caplog.text


async def test_a_hanging_check_is_bounded(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probes_module, "CHECK_SECONDS", 0.2)
    caplog.set_level(logging.WARNING, "aion.probes")
    async with _client(Probes(checks=lambda _: {"PostgreSQL": _hangs})) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert "PostgreSQL did not answer" in caplog.text


async def test_draining_and_dead_machinery() -> None:
    async with _client(Probes(draining=lambda _: True, alive=lambda _: False)) as http:
        ready, alive = await http.get("/readyz"), await http.get("/healthz")
    assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
    assert (alive.status_code, alive.json()) == (503, {"status": "unavailable"})


async def test_metrics_only_where_asked() -> None:
    async with _client(Probes()) as http:
        assert (await http.get("/metrics")).status_code == 200
    async with _client(Probes(metrics=False)) as http:
        assert (await http.get("/metrics")).status_code == 404
