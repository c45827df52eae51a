"""Settings: GET /api/config, POST /api/config/settings."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import config
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.config import ConfigView, SettingsPatch, SettingsSaved, SettingsSchema
from shared.app_settings import AppSettings

router = APIRouter(prefix="/api/config", dependencies=[Authorized])


@router.get("", response_model=ConfigView, responses=errors())
async def get_config(ctx: Ctx, conn: DbConn) -> ConfigView:
    return await config.current(ctx, conn)


@router.post("/settings", response_model=SettingsSaved, responses=errors(body=True))
async def update_settings(ctx: Ctx, conn: DbConn, patch: SettingsPatch) -> SettingsSaved:
    changes = patch.model_dump(exclude_unset=True)
    return SettingsSaved(settings=await config.update(ctx, conn, changes))


@router.get("/schema", response_model=SettingsSchema, responses=errors())
async def settings_schema() -> SettingsSchema:
    """What a client needs to build a settings form: each setting's type, bounds and default."""
    return SettingsSchema(AppSettings.model_json_schema(mode="serialization"))
