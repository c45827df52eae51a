"""One probe layer for every service: /healthz, /readyz and /metrics.

- /healthz: the process can answer and its own machinery runs (`alive`); a failure means
  "restart me". It never looks at PostgreSQL or Redis: a store outage must not restart every
  service at once.
- /readyz: what the service needs to do its work answers (`checks`, run concurrently, each
  bounded); a failure means "send me nothing for now". A draining process answers 503 too, so
  the load balancer stops sending before it exits.
- /metrics: Prometheus text of this process (internal services only; the api serves its own,
  behind a token).

The probes are unauthenticated, so a response says only ok/unavailable/draining; why a check
failed goes to the log, with the check's name, every time it fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

log = logging.getLogger("aion.probes")

Check = Callable[[], Awaitable[object]]  # raises (or returns False) when not ready
CHECK_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Probes:
    """What a service's probes look at. Each callable gets the request, so it can reach the
    service's context (app.state) without a global."""

    checks: Callable[[Request], Mapping[str, Check]] = lambda _: {}
    alive: Callable[[Request], bool] = field(default=lambda _: True)
    draining: Callable[[Request], bool] = field(default=lambda _: False)
    metrics: bool = True


async def _run(name: str, check: Check, service: str) -> bool:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            result = await check()
    except TimeoutError:
        log.warning("%s not ready: %s did not answer within %.0f s", service, name, CHECK_SECONDS)
        return False
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("%s not ready: %s: %s: %s", service, name, type(exc).__name__, exc)
        return False
    if result is False:
        log.warning("%s not ready: %s", service, name)
        return False
    return True


async def ready(checks: Mapping[str, Check], service: str) -> bool:
    """Every check at once; a failing one is logged with its reason."""
    results = await asyncio.gather(*(_run(name, c, service) for name, c in checks.items()))
    return all(results)


def _status(ok: bool, *, draining: bool = False) -> JSONResponse:
    status = "draining" if draining else "ok" if ok else "unavailable"
    return JSONResponse({"status": status}, status_code=200 if ok and not draining else 503)


def add_probes(router: APIRouter | FastAPI, service: str, probes: Probes) -> None:
    """/healthz, /readyz (and /metrics) for `service`, outside any OpenAPI document."""

    @router.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        alive = probes.alive(request)
        if not alive:
            log.error("%s not alive: a background task it needs has ended", service)
        return _status(alive)

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        if probes.draining(request):
            return _status(False, draining=True)
        return _status(await ready(probes.checks(request), service))

    if probes.metrics:
        from shared import metrics  # prometheus_client: not in every image (the sandbox's)

        @router.get("/metrics", include_in_schema=False)
        async def get_metrics() -> Response:
            body, content_type = metrics.render()
            return Response(body, media_type=content_type)
