"""Public routes: status summary and probes."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request

from services.api import status as status_service
from services.api.context import AppContext
from services.api.deps import Ctx
from services.api.schemas.common import errors
from services.api.schemas.status import StatusResponse
from shared import db
from shared.probes import Check, Probes, add_probes

router = APIRouter()


@router.get("/api/status", response_model=StatusResponse, responses=errors(public=True))
async def get_status(ctx: Ctx) -> StatusResponse:
    return await status_service.status(ctx)


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _readiness(request: Request) -> Mapping[str, Check]:
    ctx = _context(request)
    return {"PostgreSQL": lambda: db.reachable(ctx.pool), "Redis": ctx.redis.ping}


# The probes are for the orchestrator, not for clients: outside the OpenAPI document. A
# draining api (shutting down) answers 503 so the load balancer stops sending traffic; its
# /metrics is a route of its own, behind a token (routes/metrics.py).
add_probes(
    router,
    "api",
    Probes(
        checks=_readiness,
        draining=lambda request: _context(request).drain.draining,
        metrics=False,
    ),
)
