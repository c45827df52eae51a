"""Updates: GET /api/update-status, POST /api/update-trigger."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import updates
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.status import UpdateStatus, UpdateTrigger

router = APIRouter(prefix="/api", dependencies=[Authorized])


@router.get("/update-status", response_model=UpdateStatus, responses=errors())
async def get_update_status(ctx: Ctx, conn: DbConn) -> UpdateStatus:
    return await updates.status(ctx, conn)


@router.post("/update-trigger", status_code=202, response_model=UpdateTrigger, responses=errors())
async def trigger_update_check(ctx: Ctx) -> UpdateTrigger:
    return await updates.trigger(ctx)
