"""Public routes: status summary and probes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.api import status as status_service
from services.api.deps import Ctx
from services.api.schemas.common import errors
from services.api.schemas.status import Probe, StatusResponse

router = APIRouter()


@router.get("/api/status", response_model=StatusResponse, responses=errors(public=True))
async def get_status(ctx: Ctx) -> StatusResponse:
    return await status_service.status(ctx)


# The probes are for the orchestrator, not for clients: outside the OpenAPI document.
@router.get("/healthz", include_in_schema=False, response_model=Probe)
async def healthz() -> Probe:
    return Probe(status="ok")


@router.get("/readyz", include_in_schema=False, response_model=Probe)
async def readyz(ctx: Ctx, response: Response) -> Probe:
    if ctx.drain.draining:  # shutting down: the load balancer should stop sending traffic
        response.status_code = 503
        return Probe(status="draining")
    ok = await status_service.ready(ctx)
    response.status_code = 200 if ok else 503
    return Probe(status="ok" if ok else "unavailable")
