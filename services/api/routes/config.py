"""Settings: GET /api/config, POST /api/config/settings."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import config
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.config import ConfigView, SettingsPatch, SettingsSaved

router = APIRouter(prefix="/api/config", dependencies=[Authorized])


@router.get("", response_model=ConfigView, responses=errors())
async def get_config(ctx: Ctx, conn: DbConn) -> ConfigView:
    return await config.current(ctx, conn)


@router.post("/settings", response_model=SettingsSaved, responses=errors(body=True))
async def update_settings(ctx: Ctx, conn: DbConn, patch: SettingsPatch) -> SettingsSaved:
    changes = patch.model_dump(exclude_unset=True)
    return SettingsSaved(settings=await config.update(ctx, conn, changes))
