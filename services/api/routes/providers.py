"""Providers and the default model: GET /api/providers, POST /api/model."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import providers
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.providers import ModelRequest, ModelSet, ProvidersResponse

router = APIRouter(prefix="/api", dependencies=[Authorized])


@router.get("/providers", response_model=ProvidersResponse, responses=errors())
async def list_providers(ctx: Ctx, conn: DbConn) -> ProvidersResponse:
    return await providers.listing(ctx, conn)


@router.post("/model", response_model=ModelSet, responses=errors(body=True))
async def set_model(body: ModelRequest, ctx: Ctx, conn: DbConn) -> ModelSet:
    return await providers.set_model(ctx, conn, body.model)
