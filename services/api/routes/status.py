"""Public routes: status summary and probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api import status as status_service
from services.api.deps import Ctx
from services.api.schemas.common import errors
from services.api.schemas.status import StatusResponse

router = APIRouter()


@router.get("/api/status", response_model=StatusResponse, responses=errors(public=True))
async def get_status(ctx: Ctx) -> StatusResponse:
    return await status_service.status(ctx)


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(ctx: Ctx) -> JSONResponse:
    if ctx.drain.draining:  # shutting down: the load balancer should stop sending traffic
        return JSONResponse({"status": "draining"}, status_code=503)
    ok = await status_service.ready(ctx)
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)
