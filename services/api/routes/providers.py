"""Providers and the default model: GET /api/providers, POST /api/model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api import providers
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas import ModelRequest

router = APIRouter(prefix="/api", dependencies=[Authorized])


@router.get("/providers")
async def list_providers(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await providers.listing(ctx, conn)


@router.post("/model")
async def set_model(body: ModelRequest, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await providers.set_model(ctx, conn, body.model)
